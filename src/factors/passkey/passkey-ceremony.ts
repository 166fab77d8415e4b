// The checks both ceremonies share, done by us before the WebAuthn library runs its cryptography,
// so each has its own typed reason instead of an exception message: the challenge record first
// (and spent: one attempt per challenge), then clientDataJSON (type, challenge, origin, no
// cross-origin frame), then the authenticator data (RP ID hash, user presence and verification).
import { createHash } from 'node:crypto';
import { parseAuthenticatorData, type ParsedAuthenticatorData } from '@simplewebauthn/server/helpers';
import type { WebauthnRelyingParty } from '../../config.ts';
import { safeEqual } from '../../accounts/random.ts';
import { checkPasskeyChallenge, spendPasskeyChallenge, type ChallengeExpectation, type PasskeyChallenge, type PasskeyUse } from './passkey-challenge.ts';
import { decodeClientData } from './passkey-response.ts';
import type { PasskeyFailure } from './passkey-failure.ts';

/** What every verification is given by the caller (the flow). */
export interface CeremonyInput {
  rp: WebauthnRelyingParty;
  /** The flow's challenge as stored in its state (read defensively). */
  challenge: unknown;
  flowId: string;
  use: PasskeyUse;
  now: number;
}

/** A failure; `challenge` is the spent challenge to save when the attempt reached it. */
export interface CeremonyFailure {
  ok: false;
  reason: PasskeyFailure;
  challenge?: PasskeyChallenge;
}

export type Step<T> = { ok: true; value: T } | { ok: false; reason: PasskeyFailure };

export function takeChallenge(input: CeremonyInput, expected: Omit<ChallengeExpectation, 'flowId' | 'use'>): Step<{ issued: PasskeyChallenge; spent: PasskeyChallenge }> {
  const check = checkPasskeyChallenge(input.challenge, { ...expected, flowId: input.flowId, use: input.use }, input.now);
  if (!check.ok) return check;
  return { ok: true, value: { issued: check.challenge, spent: spendPasskeyChallenge(check.challenge, input.now) } };
}

export function checkClientData(clientDataJSON: string, type: 'webauthn.create' | 'webauthn.get', challenge: PasskeyChallenge, rp: WebauthnRelyingParty): Step<string> {
  const clientData = decodeClientData(clientDataJSON);
  if (!clientData || clientData.type !== type) return { ok: false, reason: 'malformed' };
  if (!safeEqual(clientData.challenge, challenge.value)) return { ok: false, reason: 'challenge-mismatch' };
  if (!rp.origins.includes(clientData.origin)) return { ok: false, reason: 'wrong-origin' };
  // Our pages refuse to be framed; a ceremony in a frame on another site is not bound to our page.
  if (clientData.crossOrigin === true || clientData.topOrigin !== undefined) return { ok: false, reason: 'wrong-origin' };
  return { ok: true, value: clientData.origin };
}

function rpIdHash(rpId: string): Buffer {
  return createHash('sha256').update(rpId, 'utf8').digest();
}

export function parseAuthData(bytes: Uint8Array): ParsedAuthenticatorData | undefined {
  try {
    return parseAuthenticatorData(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}

export function checkAuthenticatorData(authData: ParsedAuthenticatorData, rp: WebauthnRelyingParty, use: PasskeyUse): Step<ParsedAuthenticatorData> {
  if (!Buffer.from(authData.rpIdHash).equals(rpIdHash(rp.rpId))) return { ok: false, reason: 'wrong-rp-id' };
  if (!authData.flags.up) return { ok: false, reason: 'user-not-present' };
  if (use === 'passwordless' && !authData.flags.uv) return { ok: false, reason: 'user-not-verified' };
  // A key that is backed up but not backup-eligible is a contradiction the spec forbids.
  if (authData.flags.bs && !authData.flags.be) return { ok: false, reason: 'malformed' };
  return { ok: true, value: authData };
}
