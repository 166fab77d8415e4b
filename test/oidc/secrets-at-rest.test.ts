// A copy of the database files (main file, write-ahead log, shared memory) taken after logins,
// refreshes and introspections must not contain anything that lets its holder act as a portal,
// a patient or the IdP: no access or refresh token, code, session cookie value, client secret,
// private signing key or cookie key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { loadCookieKeys, loadSigningKeys } from '../../src/oidc/keys.ts';
import { leaked, storeBytes } from '../support/store-files.ts';

describe('secrets at rest', () => {
  let server: TestServer;
  let rp: RelyingParty;
  let clientSecret: string;

  beforeAll(async () => {
    server = await startTestServer();
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], clientCredentials: true });
    clientSecret = client.clientSecret!;
    rp = await relyingParty(server.url, client.clientId, clientSecret);
    await server.addUser({ username: 'visser' });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('keeps no token, code, session id, client secret or private key readable in the database files', async () => {
    const agent = new UserAgent();
    const request = await rp.authorize({ scope: 'openid profile offline_access', prompt: 'consent' });
    const page = await agent.open(request.url, REDIRECT_URI);
    const consent = await agent.submit(page, '/step/password/verify', { login: 'visser', password: TEST_PASSWORD }, REDIRECT_URI);
    // offline_access needs prompt=consent, and so an explicit consent even at a first-party portal.
    const back = await agent.submit(consent, '/consent', {}, REDIRECT_URI);
    const code = new URL(back.url).searchParams.get('code')!;
    const tokens = await rp.callback(back.url, request);
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(rp.config, refreshed.access_token)).active).toBe(true);
    const service = await oidc.clientCredentialsGrant(rp.config, {});
    const session = agent.cookie('_session');
    expect(session).toBeTruthy();
    // Single sign-on still works: the session is found through its hashed id.
    const again = await agent.open((await rp.authorize({ scope: 'openid profile' })).url, REDIRECT_URI);
    expect(again.url.startsWith(REDIRECT_URI)).toBe(true);

    const { store, box } = server.services;
    const privateParts = (await loadSigningKeys(store, box, Date.now())).flatMap((k) =>
      ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => k.jwk[m]).filter((v): v is string => typeof v === 'string'));
    expect(privateParts.length).toBeGreaterThanOrEqual(4 * 1);
    const secrets = {
      'access token': [tokens.access_token, refreshed.access_token, service.access_token],
      'refresh token': [tokens.refresh_token!, refreshed.refresh_token!],
      'authorization code': [code],
      'session cookie': [session!],
      'client secret': [clientSecret],
      'private signing key': privateParts,
      'cookie key': await loadCookieKeys(store, box),
    };
    expect(leaked(await storeBytes(server.dataDir), secrets)).toEqual([]);
    // The check finds what it looks for: the client id and the patient's username are there.
    expect(leaked(await storeBytes(server.dataDir), { probe: [rp.clientId, 'visser@example.nl'] })).toEqual(['probe', 'probe']);
  });
});
