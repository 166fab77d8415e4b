// When a per-account code limit trips — codes by SMS, call or e-mail, app codes, recovery codes —
// someone has just typed many wrong codes after the right password, and the patient cannot sign
// in with that method until the window ends. Both are worth telling the patient: someone may know
// the password, and the lock is not a fault on their side. The limits themselves stay: they are
// what keeps a six-digit code from being guessed (docs/architecture.md, "Code limits").
//
// One notice per window however many limits trip (phone, mailbox, app and recovery codes each
// have their own), so a guesser cannot flood the patient's mailbox either.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { Translate } from '../i18n/i18n.ts';
import { sendSecurityNotice } from './security-notices.ts';

export interface TrippedLimit {
  /** The factor whose codes were guessed (for the audit trail). */
  factor: string;
  /** The method as the patient knows it, worded in the notice's language. */
  method: (t: Translate) => Promise<string>;
  /** The portal of the login; undefined on the account page. */
  portal: string | undefined;
  clientId: string | null;
  ip: string | null;
}

/** Audits the tripped limit and, once per window, sends the patient the `code_guessing` notice. */
export async function reportCodeGuessing(services: Services, account: AccountRecord, tripped: TrippedLimit): Promise<void> {
  await services.audit.record({ type: 'login.code_limit_reached', accountId: account.id, clientId: tripped.clientId, ip: tripped.ip, detail: { factor: tripped.factor } });
  const windowMs = services.config.policy.codes.guessingNoticeWindowSeconds * 1000;
  if ((await services.limits.hit(`notice:code-guessing:${account.id}`, { max: 1, windowMs })) < 0) return;
  sendSecurityNotice(services, account, { kind: 'code_guessing', method: tripped.method, portal: tripped.portal });
}
