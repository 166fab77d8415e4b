// Erasure of an account (AVG/GDPR art. 17; `poortwachter user remove`): the account and
// everything that lets anyone act as it or tells anything about it go — credentials, codes,
// remembered devices, locks, flows, session proofs, the portals it used, and its grants, sessions
// and tokens at oidc-provider. The audit trail stays (a security record the practice must keep),
// but names a pseudonym instead of the account id: a keyed hash (HMAC-SHA256 with a key derived
// from SECRETS_KEY), so the events still belong together and an operator who is handed the old
// id (say, in a complaint) can compute the pseudonym and find them, while a copy of the database
// alone cannot tie them to the person.
//
// Order: what could still sign in goes first, the account record last, so an interrupted run
// leaves the account findable and `user remove` can simply be run again.
import { createHmac, hkdfSync } from 'node:crypto';
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';

export function auditPseudonym(secretsKey: Buffer, accountId: string): string {
  const key = Buffer.from(hkdfSync('sha256', secretsKey, 'poortwachter', 'audit-pseudonym-key', 32));
  return `erased:${createHmac('sha256', key).update(accountId).digest('base64url').slice(0, 22)}`;
}

export interface ErasureResult {
  pseudonym: string;
  /** How many audit events now name the pseudonym. */
  auditEvents: number;
}

export async function eraseAccount(services: Services, account: AccountRecord, who: { actor: string }): Promise<ErasureResult> {
  const { store, lockout } = services;
  await services.signIns.revokeSignIns(account.id);
  await store.devices.removeByAccount(account.id);
  await store.credentials.removeByAccount(account.id);
  await store.codes.removeByAccount(account.id);
  await lockout.unlock(account);
  await store.flows.removeByAccount(account.id);
  await store.sessionProofs.removeByAccount(account.id);
  await store.accountPortals.removeByAccount(account.id);
  await store.organisations.setMemberships('account', account.id, []);
  await store.adminGrants.remove(account.id);
  const pseudonym = auditPseudonym(services.config.secretsKey, account.id);
  const auditEvents = await store.audit.pseudonymise(account.id, pseudonym);
  await services.audit.record({ type: 'admin.user.removed', accountId: pseudonym, actor: who.actor, detail: { outcome: 'erased', auditEvents } });
  await store.accounts.remove(account.id);
  return { pseudonym, auditEvents: auditEvents + 1 };
}
