// A portal authenticates at the token endpoint only with the method it was registered with. The
// registry registers confidential portals for client_secret_basic; oidc-provider would also have
// accepted the same secret in the request body (client_secret_post) from such a client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { REDIRECT_URI } from '../support/relying-party.ts';

describe('client authentication', () => {
  let server: TestServer;
  let clientId: string;
  let secret: string;

  beforeAll(async () => {
    server = await startTestServer();
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], clientCredentials: true });
    clientId = client.clientId;
    secret = client.clientSecret!;
    await server.addUser({ username: 'methode' });
  });
  afterAll(() => server?.close());

  const configure = (auth: oidc.ClientAuth) =>
    oidc.discovery(new URL(server.url), clientId, { redirect_uris: [REDIRECT_URI] }, auth, { execute: [oidc.allowInsecureRequests] });

  it('advertises only the methods it registers', async () => {
    const config = await configure(oidc.ClientSecretBasic(secret));
    expect(config.serverMetadata().token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'none']);
  });

  it('accepts the registered client_secret_basic and refuses the secret in the body', async () => {
    const basic = await configure(oidc.ClientSecretBasic(secret));
    expect((await oidc.clientCredentialsGrant(basic, { scope: 'openid' })).access_token).toBeTruthy();

    const post = await configure(oidc.ClientSecretPost(secret));
    await expect(oidc.clientCredentialsGrant(post, { scope: 'openid' })).rejects.toMatchObject({ error: 'invalid_client' });
  });

  it('refuses client_secret_post for the authorization code too', async () => {
    const post = await configure(oidc.ClientSecretPost(secret));
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(post, {
      redirect_uri: REDIRECT_URI, scope: 'openid', state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    const agent = new UserAgent();
    const page = await agent.open(url.href, REDIRECT_URI);
    const done = await agent.submit(page, '/step/password/verify', { login: 'methode', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(done.url.startsWith(REDIRECT_URI)).toBe(true);
    await expect(oidc.authorizationCodeGrant(post, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state }))
      .rejects.toMatchObject({ error: 'invalid_client' });
  });
});
