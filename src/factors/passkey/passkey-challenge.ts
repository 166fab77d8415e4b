// The challenge of one WebAuthn ceremony. It lives in the flow that asked for it (flow state is in
// the store, so any process can finish the ceremony), is good for one verification attempt and at
// most five minutes, and names what it is for: a registration response cannot be answered to a
// sign-in challenge, a challenge from another flow or for another account is refused.
import { randomBytes } from 'node:crypto';
import { safeEqual } from '../../accounts/random.ts';

/** The ceremony's lifetime, also given to the browser as its timeout. */
export const PASSKEY_CHALLENGE_TTL_MS = 5 * 60_000;
/** 32 random bytes: well over the 16 the WebAuthn spec asks for. */
const CHALLENGE_BYTES = 32;

export type PasskeyCeremony = 'registration' | 'authentication';
/**
 * What the passkey is used for: signing in without a password (user verification required: the
 * passkey alone is then multi-factor) or as the second factor after a password (preferred).
 */
export type PasskeyUse = 'passwordless' | 'second-factor';

export interface PasskeyChallenge {
  /** base64url, exactly as the browser signs it in clientDataJSON.challenge. */
  value: string;
  ceremony: PasskeyCeremony;
  use: PasskeyUse;
  flowId: string;
  /** The account it was issued for; null for a passwordless sign-in (the passkey names the account). */
  accountId: string | null;
  /** Registration only: the WebAuthn user handle the options carried; the new passkey keeps it. */
  userHandle: string | null;
  createdAt: number;
  /** Set by the first verification attempt; the caller saves the spent challenge in the flow. */
  usedAt: number | null;
}

export type PasskeyChallengeProblem = 'no-challenge' | 'challenge-used' | 'challenge-expired' | 'wrong-purpose' | 'wrong-flow' | 'wrong-account';

export interface ChallengeExpectation {
  ceremony: PasskeyCeremony;
  use: PasskeyUse;
  flowId: string;
  accountId: string | null;
}

export function newPasskeyChallenge(input: ChallengeExpectation & { userHandle?: string | null; now: number }): PasskeyChallenge {
  return {
    value: randomBytes(CHALLENGE_BYTES).toString('base64url'),
    ceremony: input.ceremony,
    use: input.use,
    flowId: input.flowId,
    accountId: input.accountId,
    userHandle: input.userHandle ?? null,
    createdAt: input.now,
    usedAt: null,
  };
}

const CEREMONIES: readonly string[] = ['registration', 'authentication'];
const USES: readonly string[] = ['passwordless', 'second-factor'];
const nullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** The challenge as stored in flow state (JSON), or undefined when it is not one. */
export function readPasskeyChallenge(value: unknown): PasskeyChallenge | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const c = value as Record<string, unknown>;
  if (typeof c.value !== 'string' || c.value.length === 0) return undefined;
  if (typeof c.ceremony !== 'string' || !CEREMONIES.includes(c.ceremony)) return undefined;
  if (typeof c.use !== 'string' || !USES.includes(c.use)) return undefined;
  if (typeof c.flowId !== 'string' || !nullableString(c.accountId) || !nullableString(c.userHandle)) return undefined;
  if (typeof c.createdAt !== 'number' || !(c.usedAt === null || typeof c.usedAt === 'number')) return undefined;
  return {
    value: c.value,
    ceremony: c.ceremony as PasskeyCeremony,
    use: c.use as PasskeyUse,
    flowId: c.flowId,
    accountId: c.accountId,
    userHandle: c.userHandle,
    createdAt: c.createdAt,
    usedAt: c.usedAt,
  };
}

/** Whether `value` (from flow state) is a live, unused challenge for exactly this purpose. */
export function checkPasskeyChallenge(
  value: unknown,
  expected: ChallengeExpectation,
  now: number,
): { ok: true; challenge: PasskeyChallenge } | { ok: false; reason: PasskeyChallengeProblem } {
  const challenge = readPasskeyChallenge(value);
  if (!challenge) return { ok: false, reason: 'no-challenge' };
  if (!safeEqual(challenge.flowId, expected.flowId)) return { ok: false, reason: 'wrong-flow' };
  if (challenge.ceremony !== expected.ceremony || challenge.use !== expected.use) return { ok: false, reason: 'wrong-purpose' };
  if (challenge.accountId !== expected.accountId) return { ok: false, reason: 'wrong-account' };
  if (challenge.usedAt !== null) return { ok: false, reason: 'challenge-used' };
  if (now - challenge.createdAt > PASSKEY_CHALLENGE_TTL_MS) return { ok: false, reason: 'challenge-expired' };
  return { ok: true, challenge };
}

export function spendPasskeyChallenge(challenge: PasskeyChallenge, now: number): PasskeyChallenge {
  return { ...challenge, usedAt: now };
}
