// A passkey whose signature counter did not go up was refused as a possible copy (two holders of
// one key). The attempt is audited (passkey-audit.ts); this tells the passkey's owner by mail, in
// their language, naming the passkey, so they can remove it. Mail only, never SMS: whoever holds
// the copy can set this off at will. Once per window, like the code-guessing notice, so a copy
// tried again and again does not flood the patient's mailbox. Not for a regression found only on
// saving, after a simultaneous sign-in stored its count first: the same key in two tabs does
// that too, and a false alarm would teach patients to ignore the real one. A failure here never
// fails the refusal it follows (logged, without the passkey's name).
import type { Services } from '../../services.ts';
import { sendSecurityNotice } from '../../accounts/security-notices.ts';
import type { CounterRegression } from './verify-authentication.ts';
import { readPasskeyData } from './passkey-credential.ts';
import { PASSKEY_FACTOR_ID } from './passkey-proof.ts';

export async function reportPasskeyClone(services: Services, clone: CounterRegression, portal: string | undefined): Promise<void> {
  if (clone.raced) return;
  try {
    await notifyOwner(services, clone, portal);
  } catch (error) {
    services.logger.warn({ accountId: clone.accountId, error: error instanceof Error ? error.name : 'unknown' }, 'passkey copy notice not sent');
  }
}

async function notifyOwner(services: Services, clone: CounterRegression, portal: string | undefined): Promise<void> {
  const account = await services.accounts.findById(clone.accountId);
  if (!account) return;
  const windowMs = services.config.policy.codes.guessingNoticeWindowSeconds * 1000;
  if ((await services.limits.hit(`notice:passkey-clone:${account.id}`, { max: 1, windowMs })) < 0) return;
  const record = await services.store.credentials.findById(clone.recordId);
  const name = record?.accountId === account.id && record.type === PASSKEY_FACTOR_ID ? readPasskeyData(record)?.name : undefined;
  sendSecurityNotice(services, account, {
    kind: 'passkey_clone',
    method: async (t) => (name ? t('notices.passkey_named', { name }) : t('settings.method.passkey')),
    portal,
  });
}
