// AES-256-GCM for secrets at rest: TOTP secrets, phone numbers, signing and cookie keys, client
// secrets, oidc-provider's stored models. SECRETS_KEY itself never encrypts: every seal derives a
// one-off key from it and a random salt (HMAC-SHA256), so the 2^32-messages-per-key limit of random
// GCM nonces never comes near, however many tokens are sealed over the years.
//
// Format `v2.<key id>.<salt+iv>.<ciphertext>.<tag>` (base64url). The key id names the SECRETS_KEY
// that sealed it, so a later rotation can keep the previous key for opening while sealing with the
// new one. `v1.<iv>.<ciphertext>.<tag>` (the key itself, no id) is what earlier versions wrote; it
// still opens.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v2';
const LEGACY_VERSION = 'v1';
const SALT_BYTES = 16;
const IV_BYTES = 12;

export class UnreadableSecretError extends Error {
  constructor(reason: string) {
    super(`unreadable sealed secret: ${reason}`);
    this.name = 'UnreadableSecretError';
  }
}

/** A short public name for a key: lets a sealed value say which key opens it, revealing nothing. */
export function keyIdOf(key: Buffer): string {
  return Buffer.from(hkdfSync('sha256', key, '', 'poortwachter secret-box key id', 6)).toString('base64url');
}

export class SecretBox {
  readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();

  /** `previous` keys only open (after a SECRETS_KEY rotation); `key` seals and opens. */
  constructor(private readonly key: Buffer, previous: readonly Buffer[] = []) {
    for (const k of [key, ...previous]) {
      if (k.length !== 32) throw new Error('SecretBox needs 32-byte keys');
      this.keys.set(keyIdOf(k), k);
    }
    this.keyId = keyIdOf(key);
  }

  /** `context` (e.g. the kind of record) is authenticated: a value sealed for one use does not open as another. */
  seal(plaintext: string, context = ''): string {
    const nonce = randomBytes(SALT_BYTES + IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', subkey(this.key, nonce), nonce.subarray(SALT_BYTES));
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.keyId, nonce.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, context = ''): string {
    const parts = sealed.split('.');
    if (parts[0] === LEGACY_VERSION) return this.openLegacy(parts);
    const [version, keyId, nonceText, body, tag] = parts;
    if (version !== VERSION || !keyId || !nonceText || body === undefined || !tag || parts.length !== 5) throw new UnreadableSecretError('not a sealed value');
    const key = this.keys.get(keyId);
    if (!key) throw new UnreadableSecretError(`sealed with another SECRETS_KEY (key id ${keyId})`);
    const nonce = Buffer.from(nonceText, 'base64url');
    if (nonce.length !== SALT_BYTES + IV_BYTES) throw new UnreadableSecretError('bad nonce');
    const decipher = createDecipheriv('aes-256-gcm', subkey(key, nonce), nonce.subarray(SALT_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Whether a string is something this box sealed (of any version), rather than plain text. */
  static isSealed(value: string): boolean {
    return /^v1\.[\w-]+\.[\w-]*\.[\w-]+$/.test(value) || /^v2\.[\w-]+\.[\w-]+\.[\w-]*\.[\w-]+$/.test(value);
  }

  private openLegacy([, iv, body, tag]: string[]): string {
    if (!iv || body === undefined || !tag) throw new UnreadableSecretError('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  }
}

function subkey(key: Buffer, nonce: Buffer): Buffer {
  return createHmac('sha256', key).update(nonce.subarray(0, SALT_BYTES)).digest();
}
