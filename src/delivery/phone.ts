// Phone numbers are stored and sent in E.164 only. The `max` metadata is used because the default
// `min` set checks lengths alone (it would accept +31 6 00000000) and cannot tell a mobile number.
import { parsePhoneNumberFromString, type CountryCode, type NumberType } from 'libphonenumber-js/max';

export interface NormalisedPhone {
  /** `+31612345678` */
  e164: string;
  /** The only part of the number that may be shown or logged, see `maskPhone`. */
  lastTwo: string;
  /** Can receive SMS; numbers the metadata cannot classify (FIXED_LINE_OR_MOBILE) count as mobile. */
  isMobile: boolean;
  /**
   * Can be one person's own phone (mobile, fixed line, either, VoIP). False for numbers that cost
   * money to call or text (premium rate such as 0900/0906/0909 or +44 909, shared cost), service
   * numbers that are nobody's own phone (toll-free 0800, UAN company numbers such as 088, personal
   * numbering that forwards anywhere, pagers, voicemail) and types the metadata does not know.
   * Codes must never go to them: a premium number makes every code we send someone's income
   * (toll fraud), and a service number puts the patient's codes in someone else's hands.
   */
  personal: boolean;
}

const PERSONAL_TYPES: ReadonlySet<NumberType> = new Set<NumberType>(['MOBILE', 'FIXED_LINE', 'FIXED_LINE_OR_MOBILE', 'VOIP']);

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
  return { e164, lastTwo: e164.slice(-2), isMobile: type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE', personal: type !== undefined && PERSONAL_TYPES.has(type) };
}

/** True for a string already in E.164 form; the senders accept nothing else. */
export function isE164(value: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(value);
}
