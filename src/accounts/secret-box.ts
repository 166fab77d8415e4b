// AES-256-GCM for secrets at rest: TOTP secrets, phone numbers, signing and cookie keys, client
// secrets, oidc-provider's stored models (sealed on every token and session write).
//
// Format `v2.<key id>.<iv>.<ciphertext>.<tag>` (base64url). The key id names the SECRETS_KEY that
// sealed it, so a later rotation can keep the previous key for opening while sealing with the new
// one. `v1.<iv>.<ciphertext>.<tag>` (no id) is what earlier versions wrote; it still opens.
//
// IVs are a random 64-bit prefix per box (per process) and a 32-bit counter, not 96 random bits:
// GCM must never see an IV twice under one key, and random IVs only keep that likely for 2^32
// seals per key — a number a busy IdP sealing every token could reach within a key's life. A
// counter cannot repeat within a process; two processes share a prefix with probability 2^-64.
//
// Keys are held as KeyObjects: handing Node a Buffer key converts it on every call, which made a
// seal or open five times slower (measured on the token endpoint).
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';

const VERSION = 'v2';
const LEGACY_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX_BYTES = 8;
const COUNTER_LIMIT = 0xffffffff;

export class UnreadableSecretError extends Error {
  constructor(reason: string) {
    super(`unreadable sealed secret: ${reason}`);
    this.name = 'UnreadableSecretError';
  }
}

const aadCache = new Map<string, Buffer>();

/** The context as additional authenticated data; the few contexts in use are converted once. */
function aad(context: string): Buffer {
  let bytes = aadCache.get(context);
  if (!bytes) {
    bytes = Buffer.from(context, 'utf8');
    if (aadCache.size < 256) aadCache.set(context, bytes);
  }
  return bytes;
}

/** A short public name for a key: lets a sealed value say which key opens it, revealing nothing. */
export function keyIdOf(key: Buffer): string {
  return Buffer.from(hkdfSync('sha256', key, '', 'poortwachter secret-box key id', 6)).toString('base64url');
}

export class SecretBox {
  readonly keyId: string;
  private readonly key: KeyObject;
  private readonly keys = new Map<string, KeyObject>();
  private prefix = randomBytes(PREFIX_BYTES);
  private counter = 0;

  /** `previous` keys only open (after a SECRETS_KEY rotation); `key` seals and opens. */
  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    for (const k of [key, ...previous]) {
      if (k.length !== 32) throw new Error('SecretBox needs 32-byte keys');
      this.keys.set(keyIdOf(k), createSecretKey(k));
    }
    this.keyId = keyIdOf(key);
    this.key = this.keys.get(this.keyId)!;
  }

  /** `context` (e.g. the kind of record) is authenticated: a value sealed for one use does not open as another. */
  seal(plaintext: string, context = ''): string {
    const iv = this.nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(context));
    // String in, string out: each Buffer less is measurable on the token endpoint.
    const body = cipher.update(plaintext, 'utf8', 'base64url') + cipher.final('base64url');
    return `${VERSION}.${this.keyId}.${iv.toString('base64url')}.${body}.${cipher.getAuthTag().toString('base64url')}`;
  }

  open(sealed: string, context = ''): string {
    const parts = sealed.split('.');
    if (parts[0] === LEGACY_VERSION) return this.openLegacy(parts);
    const [version, keyId, iv, body, tag] = parts;
    if (version !== VERSION || !keyId || !iv || body === undefined || !tag || parts.length !== 5) throw new UnreadableSecretError('not a sealed value');
    const key = this.keys.get(keyId);
    if (!key) throw new UnreadableSecretError(`sealed with another SECRETS_KEY (key id ${keyId})`);
    const [ivBytes, tagBytes] = ivAndTag(iv, tag);
    return authenticated(() => {
      const decipher = createDecipheriv('aes-256-gcm', key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(context));
      decipher.setAuthTag(tagBytes);
      return decipher.update(body, 'base64url', 'utf8') + decipher.final('utf8');
    });
  }

  /**
   * Opens a value that must be bound to `context` (a phone number to its account, a TOTP secret to
   * its credential). A v1 value authenticates no context at all, so it opens under any: it is
   * refused here like a value sealed for another context (the start-up re-seal binds old values).
   */
  openBound(sealed: string, context: string): string {
    if (!context) throw new Error('openBound needs a context');
    if (sealed.startsWith(`${LEGACY_VERSION}.`)) throw new UnreadableSecretError('sealed before contexts existed');
    return this.open(sealed, context);
  }

  /** `openBound`, or undefined when the value does not open as `context`'s (other failures throw). */
  tryOpenBound(sealed: string, context: string): string | undefined {
    return unlessUnreadable(() => this.openBound(sealed, context));
  }

  /** `open` with the empty context (values sealed before binding), or undefined when that fails. */
  tryOpenUnbound(sealed: string): string | undefined {
    return unlessUnreadable(() => this.open(sealed));
  }

  /** Whether a string is something this box sealed (of any version), rather than plain text. */
  static isSealed(value: string): boolean {
    return /^v1\.[\w-]+\.[\w-]*\.[\w-]+$/.test(value) || /^v2\.[\w-]+\.[\w-]+\.[\w-]*\.[\w-]+$/.test(value);
  }

  private nextIv(): Buffer {
    if (this.counter === COUNTER_LIMIT) {
      this.prefix = randomBytes(PREFIX_BYTES);
      this.counter = 0;
    }
    const iv = Buffer.allocUnsafe(IV_BYTES);
    this.prefix.copy(iv, 0);
    iv.writeUInt32BE(this.counter, PREFIX_BYTES);
    this.counter += 1;
    return iv;
  }

  private openLegacy([, iv, body, tag]: string[]): string {
    if (!iv || body === undefined || !tag) throw new UnreadableSecretError('not a sealed value');
    const [ivBytes, tagBytes] = ivAndTag(iv, tag);
    return authenticated(() => {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ivBytes);
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    });
  }
}

/** What `open` gives, or undefined for an unreadable value; other errors (programming ones) are thrown. */
function unlessUnreadable(open: () => string): string | undefined {
  try {
    return open();
  } catch (error) {
    if (error instanceof UnreadableSecretError) return undefined;
    throw error;
  }
}

/**
 * The IV and tag of a sealed value, checked: Node throws a TypeError for a tag of another length
 * (a damaged row), which must be an UnreadableSecretError like any unreadable value, not a 500.
 */
function ivAndTag(iv: string, tag: string): [Buffer, Buffer] {
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new UnreadableSecretError('not a sealed value (IV or tag of the wrong length)');
  return [ivBytes, tagBytes];
}

/**
 * A value that fails GCM's check (damaged, or sealed for another context: another account's phone
 * number copied onto this one) is an UnreadableSecretError like any other, so callers can tell it
 * from a programming error and answer it without a 500.
 */
function authenticated(open: () => string): string {
  try {
    return open();
  } catch (error) {
    throw new UnreadableSecretError(error instanceof Error ? error.message : 'does not authenticate');
  }
}
