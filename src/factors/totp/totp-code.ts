// Checking a code from an authenticator app (RFC 6238: 30 s steps, HMAC-SHA-1, 6 digits).
// A code is accepted for the current step and one step either side (clock drift, typing time),
// and each step only once: the credential keeps the last step used, and moving it forward goes
// through the store's compare-and-swap, so two processes cannot both accept the same code.
import { verify } from 'otplib';
import type { Services } from '../../services.ts';
import type { AccountRecord, CredentialRecord } from '../../store/port.ts';
import { limitRule, type LimitRule } from '../../accounts/limits.ts';
import { normaliseCodeInput } from '../../accounts/one-time-codes.ts';
import { TOTP_DIGITS, TOTP_PERIOD_SECONDS } from './totp-secret.ts';
import { openTotpSecret, TOTP_CREDENTIAL } from './totp-binding.ts';

export { TOTP_CREDENTIAL };
/**
 * Wrong or malformed codes per account, in a fixed window (policy.totp.failures). With ±1 step
 * three codes are live, so one guess wins with p = 3/10^6; ten an hour hold an attacker who
 * already has the password to about 1 in 33,000 per hour, and the audit trail shows the attempts.
 */
export function totpFailures(services: Services): LimitRule {
  return limitRule(services.config.policy.totp.failures);
}

/** Enrolment mistakes are counted apart (policy.totp.enrolFailures), so fumbling the set-up does not lock the login. */
export function totpEnrolFailures(services: Services): LimitRule {
  return limitRule(services.config.policy.totp.enrolFailures);
}

export interface TotpCredentialData {
  /** The Base32 secret, sealed with services.box (AES-256-GCM) for its credential (totp-binding.ts). */
  secretSealed: string;
  /** RFC 6238 time step of the last accepted code; codes of this step or earlier are refused. */
  lastUsedStep: number;
}

export type TotpCheck =
  | { ok: true; credential: string }
  | {
    ok: false;
    /** `unreadable`: the stored secret does not open as this credential's (copied from another, damaged). */
    reason: 'malformed' | 'wrong' | 'replayed' | 'locked' | 'unreadable';
    /** This wrong code used up the account's budget: app codes are refused until the window ends. */
    budgetSpent?: true;
  };

const CODE_PATTERN = new RegExp(`^\\d{${TOTP_DIGITS}}$`);
const CAS_ATTEMPTS = 3;

/** The code with spaces (and dashes, dots) people paste along removed, or undefined if not 6 digits. */
export function normaliseTotpInput(input: string | undefined): string | undefined {
  const code = normaliseCodeInput(input ?? '');
  return CODE_PATTERN.test(code) ? code : undefined;
}

/** The time step `code` belongs to, within ±1 step of `nowMs`, or undefined. */
export async function matchingStep(secret: string, code: string, nowMs: number): Promise<number | undefined> {
  const result = await verify({
    secret,
    token: code,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    epoch: Math.floor(nowMs / 1000),
    // In seconds: [now - 30 s, now + 30 s] spans exactly the previous, current and next step.
    epochTolerance: TOTP_PERIOD_SECONDS,
  });
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}

export function readTotpData(credential: CredentialRecord): TotpCredentialData | undefined {
  const { secretSealed, lastUsedStep } = credential.data;
  return typeof secretSealed === 'string' && typeof lastUsedStep === 'number' ? { secretSealed, lastUsedStep } : undefined;
}

export async function totpCredential(services: Services, accountId: string): Promise<CredentialRecord | undefined> {
  const credentials = await services.store.credentials.listByAccount(accountId, TOTP_CREDENTIAL);
  // Enrolment replaces the old credential; should two exist for a moment, the newest counts.
  return credentials.at(-1);
}


export function failureKey(accountId: string): string {
  return `totp-fail:${accountId}`;
}

/** Verifies a login code and uses up its time step. */
export async function verifyTotpLogin(services: Services, account: AccountRecord, input: string | undefined): Promise<TotpCheck> {
  const key = failureKey(account.id);
  const code = normaliseTotpInput(input);
  // Not six digits: it cannot match any code, so it is no guess. Answered before the budget is
  // read, so it tells nothing about the budget either, and junk cannot lock the patient out.
  if (!code) return { ok: false, reason: 'malformed' };
  // Counted before checking, so parallel guesses cannot all pass a check made before any of them
  // was counted; a success resets the count.
  const left = await services.limits.hit(key, totpFailures(services));
  if (left < 0) return { ok: false, reason: 'locked' };
  // The last allowed guess, if wrong, already locks: say so now rather than on the next try.
  const failed = (): TotpCheck => (left === 0 ? { ok: false, reason: 'locked', budgetSpent: true } : { ok: false, reason: 'wrong' });

  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt += 1) {
    const credential = await totpCredential(services, account.id);
    const data = credential && readTotpData(credential);
    const secret = data && openTotpSecret(services.box, credential, data.secretSealed);
    if (data && secret === undefined) {
      services.logger.warn({ accountId: account.id, credentialId: credential.id }, 'the sealed TOTP secret of a credential does not open as its own');
      return { ok: false, reason: 'unreadable' };
    }
    const step = secret === undefined ? undefined : await matchingStep(secret, code, services.clock.now());
    if (!credential || !data || step === undefined) {
      return failed();
    }
    if (step <= data.lastUsedStep) {
      return { ok: false, reason: 'replayed' };
    }
    const next: TotpCredentialData = { ...data, lastUsedStep: step };
    if (await services.store.credentials.compareAndSwap(credential.id, credential.data, { ...credential.data, ...next }, services.clock.now())) {
      await services.limits.reset(key);
      return { ok: true, credential: credential.id };
    }
    // Someone else moved the credential first (the same code in another request, or a newer
    // one): read it again; the step check above then decides.
  }
  return { ok: false, reason: 'replayed' };
}
