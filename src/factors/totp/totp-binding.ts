// What a TOTP secret is sealed for. A stored secret is bound to its account and credential: with
// write access to the database but not SECRETS_KEY, copying a victim's sealed secret onto another
// credential (so the victim's app, or the attacker's, works for the wrong account) leaves a value
// that does not open there. The secret being enrolled waits in the flow's scratch bound to that
// flow, and is sealed anew for its credential when the first code proves it.
import type { SecretBox } from '../../accounts/secret-box.ts';
import { rebindRecord, type SealedField } from '../../accounts/rebind.ts';
import { tallyRecords, type Tally } from '../../accounts/bound-secrets.ts';
import type { CredentialRecord, Store } from '../../store/port.ts';

export const TOTP_CREDENTIAL = 'totp';

/** Both ids as a JSON array: joined with a separator, ids containing it would name another pair. */
export function totpContext(accountId: string, credentialId: string): string {
  return `totp:${JSON.stringify([accountId, credentialId])}`;
}

/**
 * The secret being enrolled, in the flow's scratch: bound to the flow, so a pending secret copied
 * into another patient's flow (whose app would then share a secret its planter knows) does not open.
 */
export function pendingTotpContext(flowId: string): string {
  return `totp-pending:${flowId}`;
}

/** The stored credential's sealed secret opened as its own, or undefined when it is not (copied, damaged). */
export function openTotpSecret(box: SecretBox, credential: Pick<CredentialRecord, 'id' | 'accountId'>, sealed: string): string | undefined {
  return box.tryOpenBound(sealed, totpContext(credential.accountId, credential.id));
}

/** A credential's sealed secret; one that is not a string reads as unreadable (a damaged record). */
const secretField = (store: Store): SealedField<CredentialRecord> => ({
  sealedOf: (credential) => (typeof credential.data.secretSealed === 'string' ? credential.data.secretSealed : ''),
  contextOf: (credential) => totpContext(credential.accountId, credential.id),
  // compareAndSwap also sets lastUsedAt: the value it had is kept (its creation when never used).
  replace: (credential, _sealed, next) => store.credentials.compareAndSwap(credential.id, credential.data, { ...credential.data, secretSealed: next }, credential.lastUsedAt ?? credential.createdAt),
  reread: (credential) => store.credentials.findById(credential.id),
});

/**
 * The start-up re-seal (accounts/bound-secrets.ts) for TOTP credentials: each secret sealed unbound
 * by an earlier version is sealed again for its credential, through the store's compare-and-swap,
 * so two processes starting at once cannot overwrite each other or a login's used step.
 */
export function rebindTotpSecrets(store: Store, box: SecretBox, write = true): Promise<Tally> {
  return tallyRecords(store, 'credential', async (credential) => (credential.type === TOTP_CREDENTIAL
    ? [await rebindRecord(box, credential, secretField(store), write), { accountId: credential.accountId, credentialId: credential.id }]
    : undefined));
}
