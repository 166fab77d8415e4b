// What the audit trail keeps of a passkey ceremony: the outcome and the passkey's record id, never
// key material, challenge or response. A counter regression is written twice: as the failed
// sign-in it is, and as `passkey.clone_suspected` on the passkey owner's account (also when the
// sign-in was passwordless and the flow knew no account), the event a notice to the patient and
// an operator's alert hang on. The caller adds portal and IP.
import type { AuditInput } from '../../accounts/audit.ts';
import type { PasskeyRegistrationOutcome, PasskeySignInOutcome } from './passkeys.ts';

export const PASSKEY_AUDIT = {
  registered: 'passkey.registered',
  registrationFailed: 'passkey.registration_failed',
  signedIn: 'login.passkey.ok',
  signInFailed: 'login.passkey.failed',
  cloneSuspected: 'passkey.clone_suspected',
} as const;

export type PasskeyAuditEvent = Omit<AuditInput, 'clientId' | 'ip'>;

export function registrationAuditEvents(accountId: string, outcome: PasskeyRegistrationOutcome): PasskeyAuditEvent[] {
  if (!outcome.ok) return [{ type: PASSKEY_AUDIT.registrationFailed, accountId, detail: { reason: outcome.reason } }];
  const data = outcome.record.data;
  return [{ type: PASSKEY_AUDIT.registered, accountId, detail: { passkey: outcome.record.id, synced: data.backupEligible === true, userVerified: outcome.userVerified } }];
}

/** `accountId`: the account the flow knew (second factor), or null (passwordless). */
export function signInAuditEvents(accountId: string | null, outcome: PasskeySignInOutcome): PasskeyAuditEvent[] {
  if (outcome.ok) return [{ type: PASSKEY_AUDIT.signedIn, accountId: outcome.accountId, detail: { passkey: outcome.record.id, amr: [...outcome.proof.amr] } }];
  const events: PasskeyAuditEvent[] = [{ type: PASSKEY_AUDIT.signInFailed, accountId: accountId ?? outcome.clone?.accountId ?? null, detail: { reason: outcome.reason } }];
  if (outcome.clone) {
    const { recordId, accountId: owner, storedCount, receivedCount, raced } = outcome.clone;
    events.push({ type: PASSKEY_AUDIT.cloneSuspected, accountId: owner, detail: { passkey: recordId, storedCount, receivedCount, ...(raced ? { raced: true } : {}) } });
  }
  return events;
}
