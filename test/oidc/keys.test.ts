// Signing and cookie keys through two connections on one SQLite file, as two processes see it:
// whoever loads first on an empty store, every loader ends up with the same keys.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/index.ts';
import { SecretBox } from '../../src/accounts/secret-box.ts';
import { loadCookieKeys, loadSigningKeys, rotateSigningKeys, SECRETS_AT_REST_MARKER, type SigningKey } from '../../src/oidc/keys.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const kids = (keys: SigningKey[]) => keys.map((k) => `${k.stage}:${String(k.jwk.kid)}`).sort();
const HOUR = 3600_000;
const box = new SecretBox(Buffer.alloc(32, 7));

describe('keys on a shared store', () => {
  let first: SqliteStore;
  let second: SqliteStore;
  let n = 0;

  beforeEach(() => {
    n += 1;
    const file = path.join(dir, `keys-${n}.sqlite`);
    first = openSqliteStore(file);
    second = openSqliteStore(file);
  });
  afterEach(async () => {
    await first.close();
    await second.close();
  });

  it('two processes loading signing keys on an empty store at once get one key set', async () => {
    const [a, b] = await Promise.all([loadSigningKeys(first, box, Date.now()), loadSigningKeys(second, box, Date.now())]);
    expect(kids(a)).toHaveLength(4);
    expect(kids(b)).toEqual(kids(a));
    expect(kids(await loadSigningKeys(first, box, Date.now()))).toEqual(kids(a));
  });

  it('two processes loading cookie keys on an empty store at once get the same keys', async () => {
    const [a, b] = await Promise.all([loadCookieKeys(first, box), loadCookieKeys(second, box)]);
    expect(a).toHaveLength(1);
    expect(b).toEqual(a);
  });

  it('a rotation racing a start that tidies up is not undone by it', async () => {
    const t0 = Date.now();
    await loadSigningKeys(first, box, t0);
    await rotateSigningKeys(first, box, t0, HOUR);
    // Two hours on, the retired key has expired: a starting process drops it (a write) while an
    // administrator rotates (another write), both from the same read.
    const t1 = t0 + 2 * HOUR;
    const before = await loadSigningKeys(second, box, t0);
    const [rotated] = await Promise.all([rotateSigningKeys(first, box, t1, HOUR), loadSigningKeys(second, box, t1)]);
    expect(kids(await loadSigningKeys(second, box, t1))).toEqual(kids(rotated));
    const next = before.filter((k) => k.stage === 'next').map((k) => k.jwk.kid);
    expect(rotated.filter((k) => k.stage === 'current').map((k) => k.jwk.kid)).toEqual(next);
  });

  it('keys in the clear are sealed on an unmigrated store, and refused once the store was migrated', async () => {
    const planted = [{ stage: 'current', createdAt: Date.now(), jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'attacker', kid: 'planted', alg: 'ES256', use: 'sig' } }];
    // An earlier version's store: sealed when loaded.
    await first.settings.put('oidc.signing-keys', planted);
    await first.settings.put('oidc.cookie-keys', ['plain-cookie-key']);
    await loadSigningKeys(first, box, Date.now());
    expect(await loadCookieKeys(first, box)).toEqual(['plain-cookie-key']);
    // After the migration no version of ours writes keys in the clear: a planted one is refused.
    await first.settings.put(SECRETS_AT_REST_MARKER, { version: 2, compacted: true, at: new Date().toISOString() });
    await first.settings.put('oidc.signing-keys', planted);
    await expect(loadSigningKeys(first, box, Date.now())).rejects.toThrow(/not sealed with SECRETS_KEY/);
    await expect(rotateSigningKeys(first, box, Date.now(), HOUR)).rejects.toThrow(/not sealed with SECRETS_KEY/);
    await first.settings.put('oidc.cookie-keys', ['attacker-cookie-key']);
    await expect(loadCookieKeys(first, box)).rejects.toThrow(/not sealed with SECRETS_KEY/);
  });
});
