// The OIDC core through real parts: the real server on an ephemeral port with a SQLite file,
// openid-client as the portal, and a cookie-keeping user agent playing the patient's browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { type Page, UserAgent, textOf, findForm } from '../support/user-agent.ts';
import { relyingParty, passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { ACR } from '../../src/oidc/assurance.ts';

function decodeJwt(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

describe('OIDC core', () => {
  let server: TestServer;
  let rp: RelyingParty;
  let backchannel: http.Server;
  const logoutTokens: string[] = [];
  let backchannelUrl = '';

  beforeAll(async () => {
    backchannel = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => backchannel.listen(0, '127.0.0.1', r));
    backchannelUrl = `http://127.0.0.1:${(backchannel.address() as AddressInfo).port}/backchannel`;
    server = await startTestServer();
    const client = await server.addClient({
      redirectUris: [REDIRECT_URI],
      postLogoutRedirectUris: ['http://127.0.0.1:9/'],
      backchannelLogoutUri: backchannelUrl,
      clientCredentials: true,
    });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret);
    await server.addUser({ username: 'jansen', phoneE164: '+31612345616', phoneVerified: true });
  });

  afterAll(async () => {
    await server?.close();
    backchannel?.close();
  });

  it('publishes discovery with code-only response types, PKCE S256 and our acr values', async () => {
    const meta = rp.config.serverMetadata();
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.acr_values_supported).toContain(ACR.substantial);
    expect(meta.claims_supported).toEqual(expect.arrayContaining(['acr', 'amr', 'auth_time', 'email_verified', 'phone_number']));
  });

  it('publishes RS256 and ES256 signing keys, current and next', async () => {
    const jwks = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ alg: string; d?: string }> };
    expect(jwks.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'ES256', 'RS256', 'RS256']);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('logs a patient in with code + PKCE; the ID token carries auth_time, amr and acr', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'jansen', TEST_PASSWORD);
    const claims = tokens.claims()!;
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe(ACR.low);
    expect(typeof claims.auth_time).toBe('number');
    const info = await oidc.fetchUserInfo(rp.config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ preferred_username: 'jansen', email: 'jansen@example.nl', email_verified: false, phone_number: '+31612345616', phone_number_verified: true, given_name: 'Test', family_name: 'Patiënt', locale: 'nl' });
  });

  it('logs in by e-mail address too, case-insensitively', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'JANSEN@example.nl', TEST_PASSWORD);
    expect(tokens.claims()!.sub).toBeTruthy();
  });

  it('rotates refresh tokens and revokes the grant when a rotated token is reused', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'jansen', TEST_PASSWORD);
    const first = tokens.refresh_token!;
    const second = await oidc.refreshTokenGrant(rp.config, first);
    expect(second.refresh_token).toBeTruthy();
    expect(second.refresh_token).not.toBe(first);
    await expect(oidc.refreshTokenGrant(rp.config, first)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Reuse detection: the whole grant is gone, including the newest token.
    await expect(oidc.refreshTokenGrant(rp.config, second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const introspected = await oidc.tokenIntrospection(rp.config, second.access_token);
    expect(introspected.active).toBe(false);
  });

  it('introspects and revokes access tokens', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'jansen', TEST_PASSWORD);
    const active = await oidc.tokenIntrospection(rp.config, tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: rp.clientId, sub: tokens.claims()!.sub });
    await oidc.tokenRevocation(rp.config, tokens.access_token);
    expect((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active).toBe(false);
  });

  it('issues client_credentials tokens for API use', async () => {
    const tokens = await oidc.clientCredentialsGrant(rp.config, {});
    expect(tokens.access_token).toBeTruthy();
    expect((await oidc.tokenIntrospection(rp.config, tokens.access_token)).active).toBe(true);
  });

  it('logs out (RP-initiated) and notifies the portal over the back channel', async () => {
    const agent = new UserAgent();
    const tokens = await passwordLogin(rp, agent, 'jansen', TEST_PASSWORD);
    const sid = tokens.claims()!.sid;
    const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/' });
    const confirm = await agent.open(url.href);
    expect(textOf(confirm)).toContain('Wilt u ook bij Poortwachter uitloggen?');
    const done = await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' }, 'http://127.0.0.1:9/');
    expect(done.url).toBe('http://127.0.0.1:9/');
    await expect.poll(() => logoutTokens.length).toBeGreaterThan(0);
    const payload = decodeJwt(logoutTokens.at(-1)!);
    expect(payload).toMatchObject({ iss: server.url, aud: rp.clientId, sub: tokens.claims()!.sub, sid });
    expect(payload.events).toHaveProperty(['http://schemas.openid.net/event/backchannel-logout']);
    // The session is gone: the next authorization asks for a password again.
    const again = await agent.open((await rp.authorize()).url, REDIRECT_URI);
    expect(again.html).toContain('name="password"');
  });

  it('answers with response_mode=form_post, its auto-submit script allowed by the CSP', async () => {
    const agent = new UserAgent();
    const request = await rp.authorize({ response_mode: 'form_post' });
    const login = await agent.open(request.url);
    const form = findForm(login, '/step/password/verify');
    const posted = await agent.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, login: 'jansen', password: TEST_PASSWORD }).toString() });
    const page = await agent.request(posted.location!);
    expect(page.html).toContain(`action="${REDIRECT_URI}"`);
    expect(page.html).toContain('name="code"');
    // oidc-provider adds its script's hash to our policy; without it the browser would not submit.
    expect(page.html).toMatch(/<script/);
    expect(page.headers?.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[^']+'/);
  });

  it('keeps the session: a second authorization skips the login page', async () => {
    const agent = new UserAgent();
    await passwordLogin(rp, agent, 'jansen', TEST_PASSWORD);
    const request = await rp.authorize();
    const back = await agent.open(request.url, REDIRECT_URI);
    expect(back.url.startsWith(REDIRECT_URI)).toBe(true);
    const tokens = await rp.callback(back.url, request);
    expect(tokens.claims()!.amr).toEqual(['pwd']);
  });

  it('rejects a redirect_uri that is not registered, without redirecting', async () => {
    const request = await rp.authorize({ redirect_uri: 'http://evil.example/callback' });
    const page = await new UserAgent().request(request.url);
    expect(page.status).toBe(400);
    expect(page.location).toBeUndefined();
    expect(textOf(page)).toContain('niet is geregistreerd');
  });

  it('requires PKCE for public clients', async () => {
    const pub = await server.addClient({ redirectUris: [REDIRECT_URI], public: true });
    const publicRp = await relyingParty(server.url, pub.clientId);
    const url = oidc.buildAuthorizationUrl(publicRp.config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 'x' });
    const page = await new UserAgent().request(url.href);
    const error = new URL(page.location!).searchParams;
    expect(error.get('error')).toBe('invalid_request');
    expect(error.get('error_description')).toMatch(/PKCE/);
    // With PKCE the public client signs in.
    const tokens = await passwordLogin(publicRp, new UserAgent(), 'jansen', TEST_PASSWORD);
    expect(tokens.claims()!.sub).toBeTruthy();
  });

  it('shows a consent page to portals that are not first-party, in Dutch and English', async () => {
    const third = await server.addClient({ redirectUris: [REDIRECT_URI], firstParty: false, name: 'Extern portaal' });
    const thirdRp = await relyingParty(server.url, third.clientId, third.clientSecret);
    const agent = new UserAgent();
    const request = await thirdRp.authorize();
    const login = await agent.open(request.url, REDIRECT_URI);
    const consent = await agent.submit(login, '/step/password/verify', { login: 'jansen', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(textOf(consent)).toContain('Extern portaal vraagt toegang');
    const english = await agent.open(`${consent.url}?lang=en`);
    expect(textOf(english)).toContain('Extern portaal asks for access');
    const done = await agent.submit(english, '/consent', {}, REDIRECT_URI);
    const tokens = await thirdRp.callback(done.url, request);
    const info = await oidc.fetchUserInfo(thirdRp.config, tokens.access_token, tokens.claims()!.sub);
    expect(info.email).toBe('jansen@example.nl');
  });

  it('lists on the consent page, in plain words, every scope and claim the portal asks for', async () => {
    const third = await server.addClient({ redirectUris: [REDIRECT_URI], firstParty: false, name: 'Ander portaal' });
    const thirdRp = await relyingParty(server.url, third.clientId, third.clientSecret);
    const listed = (page: Page) => [...page.html.matchAll(/<ul class="scopes">([\s\S]*?)<\/ul>/g)].flatMap((m) => [...m[1]!.matchAll(/<li>([^<]*)<\/li>/g)].map((li) => li[1]));

    // Only `openid`, plus the e-mail address through the claims parameter.
    const agent = new UserAgent();
    const request = await thirdRp.authorize({ scope: 'openid', claims: JSON.stringify({ userinfo: { email: null } }) });
    const login = await agent.open(request.url, REDIRECT_URI);
    const consent = await agent.submit(login, '/step/password/verify', { login: 'jansen', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(textOf(consent)).toContain('Ander portaal vraagt toegang tot de volgende gegevens van uw account:');
    expect(listed(consent)).toEqual(['Dat u het bent: een vaste code voor uw account en hoe u bent ingelogd', 'Uw e-mailadres']);
    const english = await agent.open(`${consent.url}?lang=en`);
    expect(listed(english)).toEqual(['That it is you: a fixed code for your account and how you signed in', 'Your e-mail address']);

    // The usual scopes: each once, and no claim a listed scope already covers.
    const other = new UserAgent();
    const full = await thirdRp.authorize({ claims: JSON.stringify({ id_token: { email: null, given_name: null } }) });
    const fullLogin = await other.open(full.url, REDIRECT_URI);
    const fullConsent = await other.submit(fullLogin, '/step/password/verify', { login: 'jansen', password: TEST_PASSWORD }, REDIRECT_URI);
    expect(listed(fullConsent)).toEqual([
      'Dat u het bent: een vaste code voor uw account en hoe u bent ingelogd',
      'Uw naam, gebruikersnaam en taalvoorkeur',
      'Uw e-mailadres',
      'Uw telefoonnummer',
    ]);
  });
});

describe('behind a TLS-terminating proxy', () => {
  it('sends Secure cookies when TRUST_PROXY is set and the proxy says https', async () => {
    const server = await startTestServer({ env: { TRUST_PROXY: 'true' } });
    try {
      // The issuer as the public sees it: https, served by the proxy in front of us.
      server.services.config.issuer = server.url;
      const client = await server.addClient({ redirectUris: [REDIRECT_URI] });
      const url = `${server.url}/auth?client_id=${client.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
      const proxied = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(proxied.status).toBe(303);
      expect(proxied.headers.getSetCookie().every((c) => /;\s*secure/i.test(c))).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('ignores X-Forwarded-Proto when TRUST_PROXY is not set', async () => {
    const server = await startTestServer();
    try {
      const client = await server.addClient({ redirectUris: [REDIRECT_URI] });
      const url = `${server.url}/auth?client_id=${client.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;
      const direct = await fetch(url, { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(direct.status).toBe(303);
      expect(direct.headers.getSetCookie().some((c) => /;\s*secure/i.test(c))).toBe(false);
    } finally {
      await server.close();
    }
  });
});
