// Upgrading a database written before secrets were sealed at rest (fixture written by 8013adc):
// at start the keys, client secrets and stored tokens and sessions are sealed or hashed in place;
// every live token, session and secret keeps working, and none of them is readable in the files.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { leaked, storeBytes } from '../support/store-files.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { SecretBox } from '../../src/accounts/secret-box.ts';
import { ModelSecrets } from '../../src/oidc/model-secrets.ts';
import { migrateSecretsAtRest } from '../../src/oidc/secrets-at-rest.ts';
import type { Store } from '../../src/store/port.ts';

const FIXTURE = new URL('../fixtures/legacy-8013adc/', import.meta.url);

interface LegacySecrets {
  client_id: string;
  client_secret: string;
  consumed_refresh_token: string;
  refresh_token: string;
  access_token: string;
  session_cookie: Record<string, string>;
  kids: string[];
  private_key_members: string[];
  cookie_keys: string[];
}

describe('upgrading a database with secrets in the clear', () => {
  let dataDir: string;
  let server: TestServer;
  let rp: RelyingParty;
  let legacy: LegacySecrets;

  beforeAll(async () => {
    legacy = JSON.parse(await readFile(new URL('secrets.json', FIXTURE), 'utf8')) as LegacySecrets;
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-upgrade-'));
    await copyFile(new URL('poortwachter.sqlite', FIXTURE), path.join(dataDir, 'poortwachter.sqlite'));
    server = await startTestServer({ env: { DATA_DIR: dataDir } });
    rp = await relyingParty(server.url, legacy.client_id, legacy.client_secret);
  });

  afterAll(async () => {
    await server?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const secretsOf = (l: LegacySecrets) => ({
    'client secret': [l.client_secret],
    'refresh token': [l.refresh_token, l.consumed_refresh_token],
    'access token': [l.access_token],
    'session cookie': [l.session_cookie._session!],
    'private signing key': l.private_key_members,
    'cookie key': l.cookie_keys,
  });

  it('the fixture does hold them in the clear', async () => {
    expect(leaked(await readFile(new URL('poortwachter.sqlite', FIXTURE)), secretsOf(legacy))).toEqual(expect.arrayContaining(['client secret', 'refresh token', 'access token', 'session cookie', 'private signing key', 'cookie key']));
  });

  it('leaves none of them readable in the files after the start', async () => {
    expect(leaked(await storeBytes(dataDir), secretsOf(legacy))).toEqual([]);
  });

  it('keeps the signing keys (same JWKS)', async () => {
    const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(legacy.kids);
  });

  it('keeps the access token, the client secret and the session valid', async () => {
    expect((await oidc.tokenIntrospection(rp.config, legacy.access_token)).active).toBe(true);
    const agent = new UserAgent();
    for (const [name, value] of Object.entries(legacy.session_cookie)) agent.setCookie(name, value);
    const request = await rp.authorize({ scope: 'openid profile email phone' });
    const back = await agent.open(request.url, REDIRECT_URI);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    expect((await rp.callback(back.url, request)).claims()!.sub).toBeTruthy();
  });

  it('keeps the refresh token working, and a consumed one still counts as a replay', async () => {
    const refreshed = await oidc.refreshTokenGrant(rp.config, legacy.refresh_token);
    expect(refreshed.access_token).toBeTruthy();
    await expect(oidc.refreshTokenGrant(rp.config, legacy.consumed_refresh_token)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse detection revoked the grant, with the token just issued.
    await expect(oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});

describe('the secrets-at-rest migration when the database is busy', () => {
  it('tries the compaction again at the next start when it failed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-busy-'));
    const store = openSqliteStore(path.join(dir, 'poortwachter.sqlite'));
    const box = new SecretBox(Buffer.alloc(32, 3));
    const secrets = new ModelSecrets(Buffer.alloc(32, 3), box);
    try {
      await store.clients.put({ clientId: 'old', metadata: { client_id: 'old', client_secret: 'plain-secret-from-before' }, createdAt: 1, updatedAt: 1 });
      let compactions = 0;
      const busy: Store = { ...store, compact: () => Promise.reject(new Error('database is locked')) };
      const counting: Store = { ...store, compact: () => { compactions += 1; return store.compact(); } };

      expect(await migrateSecretsAtRest(busy, box, secrets, Date.now())).toMatchObject({ clients: 1 });
      expect((await store.clients.find('old'))?.metadata.client_secret).not.toBe('plain-secret-from-before');
      await migrateSecretsAtRest(counting, box, secrets, Date.now());
      expect(compactions).toBe(1);
      expect(await migrateSecretsAtRest(counting, box, secrets, Date.now())).toBeUndefined();
      expect(compactions).toBe(1);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
