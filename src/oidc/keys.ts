// Signing and cookie keys live in the store, generated on first start. Signing keys move through
// three stages so relying parties that cache our JWKS never meet an unknown `kid`:
//   next (published, not used) → current (signs) → retired (published until its tokens expired).
// `keys rotate` promotes next to current, retires current, and generates a new next.
//
// At rest, the private members of each signing key and the cookie keys are sealed with SECRETS_KEY
// (accounts/secret-box.ts): a copy of the database alone cannot forge an ID token or a session
// cookie. Key ids, stages and public members stay readable for `keys list` and for humans.
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import type { Store } from '../store/port.ts';
import type { SecretBox } from '../accounts/secret-box.ts';

export type KeyStage = 'next' | 'current' | 'retired';

/** A signing key as the provider uses it: the full private JWK. Never stored like this. */
export interface SigningKey {
  stage: KeyStage;
  createdAt: number;
  /** Only for retired keys: when it may be removed from the JWKS. */
  removeAfter?: number;
  jwk: Record<string, unknown>;
}

/** A signing key as stored: public members in the clear, the private ones sealed. */
interface StoredSigningKey {
  stage: KeyStage;
  createdAt: number;
  removeAfter?: number;
  jwk: Record<string, unknown>;
  /** Sealed JSON of the private JWK members. Absent only in keys written before sealing. */
  sealedPrivate?: string;
}

const SIGNING_KEYS = 'oidc.signing-keys';
const COOKIE_KEYS = 'oidc.cookie-keys';
/** Set by the secrets-at-rest migration (secrets-at-rest.ts) once everything is sealed. */
export const SECRETS_AT_REST_MARKER = 'store.secrets-at-rest';

/**
 * Keys in the clear are an earlier version's, sealed when first loaded. Once the store has been
 * migrated, though, no version of ours writes them: an unsealed key then was put there by someone
 * with write access to the database but not SECRETS_KEY (to sign tokens or cookies with a key of
 * their choosing). Refused, not sealed and used.
 */
async function refuseIfPlanted(store: Store, what: string): Promise<void> {
  if ((await store.settings.get(SECRETS_AT_REST_MARKER)) === undefined) return;
  throw new Error(`${what} in the database are not sealed with SECRETS_KEY, although this database was sealed before: no Poortwachter writes them like that. Refusing to use them; restore them from a backup (or remove the record to have new ones made) and find out who wrote them.`);
}

/** Members of an RSA or EC JWK that may be published; everything else (d, p, q, ...) is private. */
const PUBLIC_MEMBERS = new Set(['kty', 'n', 'e', 'crv', 'x', 'y', 'kid', 'alg', 'use']);

function generateKey(alg: 'RS256' | 'ES256'): Record<string, unknown> {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  // RFC 7638-like thumbprint of the public part as kid: stable and meaningless.
  const publicPart = alg === 'RS256' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  const kid = createHash('sha256').update(JSON.stringify(publicPart)).digest('base64url').slice(0, 16);
  return { ...jwk, kid, alg, use: 'sig' };
}

function generateStage(stage: KeyStage, now: number): SigningKey[] {
  return (['RS256', 'ES256'] as const).map((alg) => ({ stage, createdAt: now, jwk: generateKey(alg) }));
}

const sealContext = (jwk: Record<string, unknown>) => `signing-key:${String(jwk.kid)}`;

function seal(box: SecretBox, key: SigningKey | StoredSigningKey): StoredSigningKey {
  if ('sealedPrivate' in key && key.sealedPrivate) return key;
  const publicJwk = Object.fromEntries(Object.entries(key.jwk).filter(([name]) => PUBLIC_MEMBERS.has(name)));
  const privateJwk = Object.fromEntries(Object.entries(key.jwk).filter(([name]) => !PUBLIC_MEMBERS.has(name)));
  return {
    stage: key.stage,
    createdAt: key.createdAt,
    ...(key.removeAfter === undefined ? {} : { removeAfter: key.removeAfter }),
    jwk: publicJwk,
    sealedPrivate: box.seal(JSON.stringify(privateJwk), sealContext(publicJwk)),
  };
}

function open(box: SecretBox, key: StoredSigningKey): SigningKey {
  const { sealedPrivate, ...rest } = key;
  if (!sealedPrivate) return rest;
  const privateJwk = JSON.parse(box.open(sealedPrivate, sealContext(key.jwk))) as Record<string, unknown>;
  return { ...rest, jwk: { ...key.jwk, ...privateJwk } };
}

const stageOrder: Record<KeyStage, number> = { current: 0, next: 1, retired: 2 };

/**
 * Drops retired keys whose time is up, fills a missing stage and seals keys stored in the clear
 * by an earlier version; the same array when nothing needs to change.
 */
function maintained(box: SecretBox, keys: StoredSigningKey[], now: number): StoredSigningKey[] {
  const live = keys.filter((k) => k.stage !== 'retired' || (k.removeAfter ?? 0) > now).map((k) => seal(box, k));
  if (!live.some((k) => k.stage === 'current')) live.push(...generateStage('current', now).map((k) => seal(box, k)));
  if (!live.some((k) => k.stage === 'next')) live.push(...generateStage('next', now).map((k) => seal(box, k)));
  return live.length === keys.length && live.every((k, i) => k === keys[i]) ? keys : live;
}

/** Several processes may start (or rotate) at once: every change is a compare-and-set on what was read. */
const MAX_ATTEMPTS = 10;

async function updateSigningKeys(store: Store, change: (keys: StoredSigningKey[] | undefined) => StoredSigningKey[] | undefined): Promise<StoredSigningKey[]> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const stored = await store.settings.get<StoredSigningKey[]>(SIGNING_KEYS);
    const next = change(stored);
    if (next === undefined && stored !== undefined) return stored;
    if (next === undefined) continue;
    // First start: insert-if-absent, then use whatever was stored first (ours or another process's).
    const written = stored === undefined ? await store.settings.putIfAbsent(SIGNING_KEYS, next) : await store.settings.compareAndSet(SIGNING_KEYS, stored, next);
    if (written) return next;
  }
  throw new Error('the signing keys kept changing while being read; try again');
}

/** Whether the store holds signing keys: an installation that has started at least once. */
export async function hasSigningKeys(store: Store): Promise<boolean> {
  return (await store.settings.get(SIGNING_KEYS)) !== undefined;
}

export async function loadSigningKeys(store: Store, box: SecretBox, now: number): Promise<SigningKey[]> {
  await refuseUnsealedSigningKeys(store);
  const keys = await updateSigningKeys(store, (stored) => {
    const current = maintained(box, stored ?? [], now);
    return current === stored ? undefined : current;
  });
  return keys.map((k) => open(box, k)).sort((a, b) => stageOrder[a.stage] - stageOrder[b.stage]);
}

async function refuseUnsealedSigningKeys(store: Store): Promise<void> {
  const stored = await store.settings.get<StoredSigningKey[]>(SIGNING_KEYS);
  if (stored?.some((k) => !k.sealedPrivate)) await refuseIfPlanted(store, 'Signing keys');
}

/**
 * What identifies a key set: each key's stage, kid and end of publication, in the order the
 * provider gets them. Equal for the stored and the opened set, so a running process compares
 * without opening (decrypting) anything.
 */
export function keySetVersion(keys: readonly (SigningKey | StoredSigningKey)[]): string {
  return [...keys]
    .sort((a, b) => stageOrder[a.stage] - stageOrder[b.stage])
    .map((k) => `${k.stage}:${String(k.jwk.kid)}:${k.removeAfter ?? ''}`)
    .join(',');
}

/** The version of the stored key set: one read of one settings record ('' before the first start). */
export async function signingKeySetVersion(store: Store): Promise<string> {
  return keySetVersion((await store.settings.get<StoredSigningKey[]>(SIGNING_KEYS)) ?? []);
}

/** The JWKS handed to oidc-provider: current keys first, since it signs with the first match. */
export function toProviderJwks(keys: readonly SigningKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => k.jwk) };
}

export async function rotateSigningKeys(store: Store, box: SecretBox, now: number, keepRetiredMs: number): Promise<SigningKey[]> {
  await refuseUnsealedSigningKeys(store);
  await updateSigningKeys(store, (stored) => {
    const rotated = maintained(box, stored ?? [], now).map((k): StoredSigningKey => {
      if (k.stage === 'current') return { ...k, stage: 'retired', removeAfter: now + keepRetiredMs };
      if (k.stage === 'next') return { ...k, stage: 'current' };
      return k;
    });
    return [...rotated, ...generateStage('next', now).map((k) => seal(box, k))];
  });
  return loadSigningKeys(store, box, now);
}

/** Stored cookie keys: sealed (or, written by an earlier version, a plain array). */
type StoredCookieKeys = { sealed: string } | string[];

const COOKIE_CONTEXT = 'cookie-keys';

export async function loadCookieKeys(store: Store, box: SecretBox): Promise<string[]> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
    const stored = await store.settings.get<StoredCookieKeys>(COOKIE_KEYS);
    if (stored === undefined) {
      // Insert-if-absent, then read back: processes starting together end up with the same keys.
      await store.settings.putIfAbsent(COOKIE_KEYS, { sealed: box.seal(JSON.stringify([randomBytes(32).toString('base64url')]), COOKIE_CONTEXT) });
      continue;
    }
    if (!Array.isArray(stored)) return JSON.parse(box.open(stored.sealed, COOKIE_CONTEXT)) as string[];
    // Plain keys from an earlier version: seal them in place, keeping the keys (live cookies stay valid).
    await refuseIfPlanted(store, 'Cookie keys');
    await store.settings.compareAndSet(COOKIE_KEYS, stored, { sealed: box.seal(JSON.stringify(stored), COOKIE_CONTEXT) });
  }
  throw new Error('the cookie keys kept changing while being read; try again');
}

/** Whether signing or cookie keys are still stored in the clear (written before sealing existed). */
export async function keysInTheClear(store: Store): Promise<boolean> {
  const signing = (await store.settings.get<StoredSigningKey[]>(SIGNING_KEYS)) ?? [];
  const cookie = await store.settings.get<StoredCookieKeys>(COOKIE_KEYS);
  return signing.some((k) => !k.sealedPrivate) || Array.isArray(cookie);
}
