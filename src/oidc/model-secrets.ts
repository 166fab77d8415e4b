// How oidc-provider's models are kept at rest. Access tokens, refresh tokens and codes are opaque
// random strings that *are* their ids; a session's id is its cookie value. Stored as they are, a
// copy of the database would be a bag of live credentials. So:
//   - ids, and the members the store looks records up by (grantId, uid, userCode), are stored as
//     HMAC-SHA256 under a key derived from SECRETS_KEY (HKDF): oidc-provider always asks by the
//     plain value, which we hash on the way in, and a hash cannot be presented as a token;
//   - the payload, which repeats the id (`jti`; an Interaction names its session's cookie), is
//     sealed whole (AES-256-GCM), bound to the model's name and the record's hashed id: with write
//     access to the database but not SECRETS_KEY, copying a victim's sealed token or session onto
//     one's own row does not make it open there (and the opened `jti`, `uid` or `userCode` must be
//     the one asked for, too).
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { SecretBox } from '../accounts/secret-box.ts';

const INDEXED = ['grantId', 'uid', 'userCode'] as const;
/** Ids whose keys are remembered. */
const RECENT_KEYS = 512;
/** Opened payloads kept per model (about 1 KiB each). */
const OPENED_CACHE_SIZE = 1000;

export class ModelSecrets {
  /** A KeyObject, not a Buffer: Node would convert a Buffer key on every HMAC (slow). */
  private readonly idKey: KeyObject;

  constructor(secretsKey: Buffer, private readonly box: SecretBox) {
    this.idKey = createSecretKey(Buffer.from(hkdfSync('sha256', secretsKey, 'poortwachter', 'oidc-model-id', 32)));
  }

  // A refresh hashes its grant's id four times and its session's uid twice; introspection looks a
  // token up as AccessToken, ClientCredentials and RefreshToken in a row. The most recent keys are
  // remembered (in memory, where oidc-provider holds these values anyway).
  private readonly recentKeys = new Map<string, string>();

  /** The stored form of an id (or of a grantId, uid or userCode): equal inputs, equal keys. */
  key(value: string): string {
    const known = this.recentKeys.get(value);
    if (known !== undefined) return known;
    const key = createHmac('sha256', this.idKey).update(value).digest('base64url');
    if (this.recentKeys.size >= RECENT_KEYS) this.recentKeys.delete(this.recentKeys.keys().next().value!);
    this.recentKeys.set(value, key);
    return key;
  }

  /**
   * What the store keeps for a payload: the sealed payload, the hashed id it is bound to (`id`, the
   * row's own key; lookups by uid or user code need it before opening), the hashed members the
   * store indexes, and the account id as it is (not a credential: it is the `sub` every portal
   * gets), so a password change can end every sign-in of the account (OidcModelStore.revokeByAccount).
   * `key` is `this.key(id)`.
   */
  seal(model: string, key: string, payload: Record<string, unknown>): Record<string, unknown> {
    const stored: Record<string, unknown> = { sealed: this.box.seal(JSON.stringify(payload), context(model, key)), id: key };
    for (const member of INDEXED) {
      const value = payload[member];
      if (typeof value === 'string') stored[member] = this.key(value);
    }
    if (typeof payload.accountId === 'string') stored.accountId = payload.accountId;
    return stored;
  }

  // Every token request reads its session and grant, the same records request after request. Their
  // opened text is kept, keyed by the record's key and the sealed text: a changed record is sealed
  // anew (new IV), so an entry can never be stale, and a sealed text opens from the cache only for
  // the record it was sealed for. In memory only, like the models oidc-provider builds from it.
  // One map per model, so a payload opens only as the model it was sealed for (its AAD).
  private readonly opened = new Map<string, Map<string, string>>();

  /**
   * The payload oidc-provider stored under `lookup` (its id `jti`, or the `uid` / `userCode` it was
   * found by); undefined for a record this version did not write, or one whose payload belongs to
   * another record.
   */
  open(model: string, stored: Record<string, unknown>, lookup: { member: 'jti' | 'uid' | 'userCode'; value: string }): Record<string, unknown> | undefined {
    const sealed = stored.sealed;
    if (typeof sealed !== 'string') return undefined;
    // By id the binding is to the record asked for; by uid or user code to the one it names.
    const key = lookup.member === 'jti' ? this.key(lookup.value) : stored.id;
    if (typeof key !== 'string') return undefined;
    let cache = this.opened.get(model);
    if (!cache) this.opened.set(model, (cache = new Map()));
    const cacheKey = `${key}.${sealed}`;
    let text = cache.get(cacheKey);
    if (text === undefined) {
      try {
        text = this.box.open(sealed, context(model, key));
      } catch {
        // Sealed for another record (or damaged): not this record's payload.
        return undefined;
      }
      // Oldest first out (a Map iterates in insertion order).
      if (cache.size >= OPENED_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey, text);
    }
    // A fresh object each time: oidc-provider changes the models it builds from it.
    const payload = JSON.parse(text) as Record<string, unknown>;
    return payload[lookup.member] === lookup.value ? payload : undefined;
  }

  /**
   * The start-up migration's step for one stored record (`id` is its key in the store): a payload in
   * the clear is sealed under its hashed id; one sealed by an earlier version, bound to the model
   * only, is sealed again bound to its id; one sealed before the account id was kept beside it gets
   * it. Undefined when the record is current.
   */
  upgrade(model: string, id: string, stored: Record<string, unknown>): { id: string; payload: Record<string, unknown> } | undefined {
    if (ModelSecrets.inTheClear(stored)) {
      const key = this.key(id);
      return { id: key, payload: this.seal(model, key, stored) };
    }
    if (typeof stored.id !== 'string') {
      const payload = JSON.parse(this.box.open(stored.sealed as string, `oidc:${model}`)) as Record<string, unknown>;
      return { id, payload: this.seal(model, id, payload) };
    }
    if ('accountId' in stored) return undefined;
    const payload = JSON.parse(this.box.open(stored.sealed as string, context(model, stored.id))) as Record<string, unknown>;
    return typeof payload.accountId === 'string' ? { id, payload: { ...stored, accountId: payload.accountId } } : undefined;
  }

  /** Whether a stored payload is still in the clear (written before sealing existed). */
  static inTheClear(stored: Record<string, unknown>): boolean {
    return typeof stored.sealed !== 'string';
  }
}

/** The authenticated context of a sealed payload: its model and the record's hashed id. */
function context(model: string, key: string): string {
  return `oidc:${model}:${key}`;
}
