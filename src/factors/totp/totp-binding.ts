// What a TOTP secret is sealed for. A stored secret is bound to its account and credential: with
// write access to the database but not SECRETS_KEY, copying a victim's sealed secret onto another
// credential (so the victim's app, or the attacker's, works for the wrong account) leaves a value
// that does not open there. The secret being enrolled waits in the flow's scratch bound to that
// flow, and is sealed anew for its credential when the first code proves it.
import type { SecretBox } from '../../accounts/secret-box.ts';
import type { Rebinding } from '../../accounts/accounts.ts';
import { Tally } from '../../accounts/bound-secrets.ts';
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

const PAGE = 500;
const REBIND_ATTEMPTS = 3;

/**
 * The start-up re-seal (accounts/bound-secrets.ts) for TOTP credentials: each secret sealed unbound
 * by an earlier version is sealed again for its credential, through the store's compare-and-swap,
 * so two processes starting at once cannot overwrite each other or a login's used step.
 */
export async function rebindTotpSecrets(store: Store, box: SecretBox, write = true): Promise<Tally> {
  const tally = new Tally();
  let after: CredentialRecord | undefined;
  for (;;) {
    const page = await store.transfer.page('credential', after, PAGE);
    for (const credential of page) {
      if (credential.type === TOTP_CREDENTIAL) tally.add(await rebindOne(store, box, credential, write), { accountId: credential.accountId, credentialId: credential.id });
    }
    if (page.length < PAGE) return tally;
    after = page.at(-1);
  }
}

async function rebindOne(store: Store, box: SecretBox, read: CredentialRecord, write: boolean): Promise<Rebinding> {
  let credential: CredentialRecord | undefined = read;
  for (let attempt = 0; attempt < REBIND_ATTEMPTS && credential; attempt += 1) {
    const sealed = credential.data.secretSealed;
    if (typeof sealed !== 'string') return 'unreadable';
    if (openTotpSecret(box, credential, sealed) !== undefined) return 'current';
    const secret = box.tryOpenUnbound(sealed);
    if (secret === undefined) return 'unreadable';
    if (!write) return 'unbound';
    const next = { ...credential.data, secretSealed: box.seal(secret, totpContext(credential.accountId, credential.id)) };
    // compareAndSwap also sets lastUsedAt: the value it had is kept (its creation when never used).
    if (await store.credentials.compareAndSwap(credential.id, credential.data, next, credential.lastUsedAt ?? credential.createdAt)) return 'rebound';
    credential = await store.credentials.findById(credential.id);
  }
  // The last read may be one another process just bound: only a value still unbound is contended.
  const last = credential?.data.secretSealed;
  if (!credential || typeof last !== 'string' || openTotpSecret(box, credential, last) !== undefined) return 'current';
  return 'contended';
}
