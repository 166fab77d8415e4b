// A refresh token's row lives as long as the token, not as long as its grant did when the token was
// saved: a later sign-in renews the grant (lifetimes.ts renewGrant) without rewriting its tokens,
// so a row capped at the old grant end would make an offline refresh token vanish days early.
// Real adapter, real SQLite store, fake clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { SecretBox } from '../../src/accounts/secret-box.ts';
import { ModelSecrets } from '../../src/oidc/model-secrets.ts';
import { adapterFactory } from '../../src/oidc/adapter.ts';
import { openStore } from '../../src/store/open.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-rt-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3600;
const DAY = 24 * HOUR;

describe('refresh token rows', () => {
  it('outlive the grant end known when they were saved once the grant is renewed', async () => {
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'rows.sqlite') });
    const clock = new FakeClock();
    const key = Buffer.alloc(32, 5);
    const adapters = adapterFactory(store, clock, new SecretBox(key), new ModelSecrets(key, new SecretBox(key)));
    const grants = adapters('Grant');
    const refreshTokens = adapters('RefreshToken');
    try {
      // The grant has 6 days left when the portal's token (14 days) is rotated.
      await grants.upsert('grant-1', { jti: 'grant-1', kind: 'Grant', exp: Math.floor(clock.now() / 1000) + 6 * DAY }, 6 * DAY);
      await refreshTokens.upsert('token-1', { jti: 'token-1', kind: 'RefreshToken', grantId: 'grant-1' }, 14 * DAY);
      // The patient signs in again at that portal: the grant gets 14 days from now.
      clock.advance(2 * DAY * 1000);
      await grants.upsert('grant-1', { jti: 'grant-1', kind: 'Grant', exp: Math.floor(clock.now() / 1000) + 14 * DAY }, 14 * DAY);
      // A week later the old grant end has passed; the token is within its own lifetime and its grant's.
      clock.advance(7 * DAY * 1000);
      expect(await grants.find('grant-1')).toBeDefined();
      expect(await refreshTokens.find('token-1')).toMatchObject({ jti: 'token-1' });
      await store.removeExpired(clock.now());
      expect(await refreshTokens.find('token-1')).toMatchObject({ jti: 'token-1' });
      // Its own lifetime still ends it.
      clock.advance(6 * DAY * 1000);
      expect(await refreshTokens.find('token-1')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
