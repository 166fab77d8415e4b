// Phone numbers are stored and sent in E.164 only. The `max` metadata is used because the default
// `min` set checks lengths alone (it would accept +31 6 00000000) and cannot tell a mobile number.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

export interface NormalisedPhone {
  /** `+31612345678` */
  e164: string;
  /** The only part of the number that may be shown or logged, see `maskPhone`. */
  lastTwo: string;
  /** Can receive SMS; numbers the metadata cannot classify (FIXED_LINE_OR_MOBILE) count as mobile. */
  isMobile: boolean;
}

// The parser would read vanity letters (1-800-FLOWERS) and pick a number out of prose; a field
// that asks for a phone number should accept neither.
const PHONE_CHARACTERS = /^\+?[\d\s().\-/]+$/;
const MAX_INPUT_LENGTH = 32;

export function normalisePhone(input: string, defaultCountry: CountryCode = 'NL'): NormalisedPhone | undefined {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_INPUT_LENGTH || !PHONE_CHARACTERS.test(trimmed)) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, { defaultCountry, extract: false });
  if (!parsed?.isValid()) return undefined;
  const e164 = parsed.number;
  const type = parsed.getType();
  return { e164, lastTwo: e164.slice(-2), isMobile: type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE' };
}

/** True for a string already in E.164 form; the senders accept nothing else. */
export function isE164(value: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(value);
}
