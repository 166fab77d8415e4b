// How oidc-provider's models are kept at rest. Access tokens, refresh tokens and codes are opaque
// random strings that *are* their ids; a session's id is its cookie value. Stored as they are, a
// copy of the database would be a bag of live credentials. So:
//   - ids, and the members the store looks records up by (grantId, uid, userCode, accountId), are stored as
//     HMAC-SHA256 under a key derived from SECRETS_KEY (HKDF): oidc-provider always asks by the
//     plain value, which we hash on the way in, and a hash cannot be presented as a token;
//   - the payload, which repeats the id (`jti`; an Interaction names its session's cookie), is
//     sealed whole (AES-256-GCM, bound to the model's name).
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';
import type { SecretBox } from '../accounts/secret-box.ts';

const INDEXED = ['grantId', 'uid', 'userCode', 'accountId'] as const;
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

  /** What the store keeps for a payload: the sealed payload plus the hashed members it indexes. */
  seal(model: string, payload: Record<string, unknown>): Record<string, unknown> {
    const stored: Record<string, unknown> = { sealed: this.box.seal(JSON.stringify(payload), `oidc:${model}`) };
    for (const member of INDEXED) {
      const value = payload[member];
      if (typeof value === 'string') stored[member] = this.key(value);
    }
    return stored;
  }

  // Every token request reads its session and grant, the same records request after request. Their
  // opened text is kept, keyed by the sealed text itself: a changed record is sealed anew (new IV),
  // so an entry can never be stale. In memory only, like the models oidc-provider builds from it.
  // One map per model, so a payload opens only as the model it was sealed for (its AAD).
  private readonly opened = new Map<string, Map<string, string>>();

  /** The payload oidc-provider stored; undefined for a record this version did not write. */
  open(model: string, stored: Record<string, unknown>): Record<string, unknown> | undefined {
    const sealed = stored.sealed;
    if (typeof sealed !== 'string') return undefined;
    let cache = this.opened.get(model);
    if (!cache) this.opened.set(model, (cache = new Map()));
    let text = cache.get(sealed);
    if (text === undefined) {
      text = this.box.open(sealed, `oidc:${model}`);
      // Oldest first out (a Map iterates in insertion order).
      if (cache.size >= OPENED_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      cache.set(sealed, text);
    }
    // A fresh object each time: oidc-provider changes the models it builds from it.
    return JSON.parse(text) as Record<string, unknown>;
  }

  /** Whether a stored payload is still in the clear (written before sealing existed). */
  static inTheClear(stored: Record<string, unknown>): boolean {
    return typeof stored.sealed !== 'string';
  }
}
