// Signing and cookie keys live in the store, generated on first start. Signing keys move through
// three stages so relying parties that cache our JWKS never meet an unknown `kid`:
//   next (published, not used) → current (signs) → retired (published until its tokens expired).
// `keys rotate` promotes next to current, retires current, and generates a new next.
import { generateKeyPairSync, randomBytes, createHash } from 'node:crypto';
import type { Store } from '../store/port.ts';

export type KeyStage = 'next' | 'current' | 'retired';

export interface StoredSigningKey {
  stage: KeyStage;
  createdAt: number;
  /** Only for retired keys: when it may be removed from the JWKS. */
  removeAfter?: number;
  jwk: Record<string, unknown>;
}

const SIGNING_KEYS = 'oidc.signing-keys';
const COOKIE_KEYS = 'oidc.cookie-keys';

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

function generateStage(stage: KeyStage, now: number): StoredSigningKey[] {
  return (['RS256', 'ES256'] as const).map((alg) => ({ stage, createdAt: now, jwk: generateKey(alg) }));
}

const stageOrder: Record<KeyStage, number> = { current: 0, next: 1, retired: 2 };

/** Drops retired keys whose time is up and fills a missing stage; the same array when nothing changes. */
function maintained(keys: StoredSigningKey[], now: number): StoredSigningKey[] {
  const live = keys.filter((k) => k.stage !== 'retired' || (k.removeAfter ?? 0) > now);
  if (!live.some((k) => k.stage === 'current')) live.push(...generateStage('current', now));
  if (!live.some((k) => k.stage === 'next')) live.push(...generateStage('next', now));
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

export async function loadSigningKeys(store: Store, now: number): Promise<StoredSigningKey[]> {
  const keys = await updateSigningKeys(store, (stored) => {
    const current = maintained(stored ?? [], now);
    return current === stored ? undefined : current;
  });
  return [...keys].sort((a, b) => stageOrder[a.stage] - stageOrder[b.stage]);
}

/** The JWKS handed to oidc-provider: current keys first, since it signs with the first match. */
export function toProviderJwks(keys: StoredSigningKey[]): { keys: Record<string, unknown>[] } {
  return { keys: keys.map((k) => k.jwk) };
}

export async function rotateSigningKeys(store: Store, now: number, keepRetiredMs: number): Promise<StoredSigningKey[]> {
  await updateSigningKeys(store, (stored) => {
    const rotated = maintained(stored ?? [], now).map((k): StoredSigningKey => {
      if (k.stage === 'current') return { ...k, stage: 'retired', removeAfter: now + keepRetiredMs };
      if (k.stage === 'next') return { ...k, stage: 'current' };
      return k;
    });
    return [...rotated, ...generateStage('next', now)];
  });
  return loadSigningKeys(store, now);
}

export async function loadCookieKeys(store: Store): Promise<string[]> {
  const existing = await store.settings.get<string[]>(COOKIE_KEYS);
  if (existing?.length) return existing;
  // Insert-if-absent, then read back: processes starting together end up with the same keys.
  await store.settings.putIfAbsent(COOKIE_KEYS, [randomBytes(32).toString('base64url')]);
  const stored = await store.settings.get<string[]>(COOKIE_KEYS);
  if (!stored?.length) throw new Error('no cookie keys in the store');
  return stored;
}
