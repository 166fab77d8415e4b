// The admin REST API against the real server, driven by its own OpenAPI document: every path and
// method in the document gets a success, no token, a token without the scope and a validation
// failure; a route the document lacks (or one it names that the test has no case for) fails.
// Tokens come from our token endpoint through openid-client (client_credentials).
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { relyingParty } from '../support/relying-party.ts';
import { FakeClock } from '../../src/clock.ts';
import type { Actor } from '../../src/admin/operations/index.ts';

const cli: Actor = { kind: 'cli', operator: 'tester' };
const SCOPES = ['admin:clients', 'admin:accounts', 'admin:audit'] as const;

interface Operation { operationId: string; 'x-required-scope': string; requestBody?: unknown; parameters: { name: string; in: string }[] }
type Doc = { paths: Record<string, Record<string, Operation>> };

describe('admin API', () => {
  let server: TestServer;
  const clock = new FakeClock(Date.now());
  let base: string;
  const tokens: Record<string, string> = {};
  let allToken: string;
  let doc: Doc;
  let accountId: string;
  let portalId: string;

  async function serviceToken(scopes: readonly string[]): Promise<string> {
    const { portal, clientSecret } = await server.app.operations.portals.register(cli, { client_name: `API ${scopes.join(' ')}`, type: 'service', scopes: [...scopes] });
    const rp = await relyingParty(server.url, portal.client_id, clientSecret);
    const granted = await oidc.clientCredentialsGrant(rp.config, { scope: scopes.join(' ') });
    return granted.access_token;
  }

  async function call(method: string, path: string, options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${base}${path}`, { method: method.toUpperCase(), headers, body });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, type, text, json: type.includes('json') && text ? JSON.parse(text) as Record<string, unknown> : undefined };
  }

  beforeAll(async () => {
    server = await startTestServer({ clock });
    base = server.url;
    await server.app.operations.organisations.add(cli, { id: 'praktijk-a', name: 'Praktijk A' });
    for (const scope of SCOPES) tokens[scope] = await serviceToken([scope]);
    allToken = await serviceToken(SCOPES);
    accountId = (await server.app.operations.accounts.create(cli, { username: 'anna', email: 'anna@example.nl' })).account.id;
    portalId = (await server.app.operations.portals.register(cli, { client_name: 'Portaal', redirect_uris: ['https://p.example/cb'], client_credentials: true })).portal.client_id;
    doc = (await call('get', '/admin/api/openapi.json')).json as unknown as Doc;
  });

  afterAll(async () => {
    await server?.close();
  });

  /** A request that succeeds for each operation in the document: path with ids filled in, body. */
  const cases = (): Record<string, { path?: string; body?: unknown; ifMatch?: () => Promise<string>; expect: number }> => ({
    listPortals: { expect: 200 },
    registerPortal: { body: { client_name: 'Nieuw', redirect_uris: ['https://n.example/cb'], mfa: 'required', mfa_methods: ['totp', 'sms'], brand_color: '#00477f', organisations: ['praktijk-a'] }, expect: 201 },
    getPortal: { expect: 200 },
    updatePortal: { body: { client_name: 'Portaal 2', min_acr: 'substantial' }, ifMatch: async () => (await call('get', `/admin/api/v1/portals/${portalId}`, { token: allToken })).headers.get('etag')!, expect: 200 },
    rotatePortalSecret: { expect: 200 },
    disablePortal: { expect: 200 },
    enablePortal: { expect: 200 },
    deletePortal: { path: '/admin/api/v1/portals/{client_id}', expect: 204 },
    mintRegistrationToken: { body: { expires_in: 3600 }, expect: 201 },
    searchAccounts: { expect: 200 },
    createAccount: { body: { username: 'nieuwe-patient', email: 'nieuw@example.nl', given_name: 'Nieuw' }, expect: 201 },
    getAccount: { expect: 200 },
    updateAccount: { body: { family_name: 'Jansen' }, ifMatch: async () => (await call('get', `/admin/api/v1/accounts/${accountId}`, { token: allToken })).headers.get('etag')!, expect: 200 },
    inviteAccount: { expect: 200 },
    mailTemporaryPassword: { expect: 200 },
    disableAccount: { expect: 200 },
    enableAccount: { expect: 200 },
    unlockAccount: { expect: 200 },
    resetSecondFactors: { expect: 200 },
    revokeSessions: { expect: 200 },
    accountAuditTrail: { expect: 200 },
    searchAudit: { expect: 200 },
    exportAudit: { expect: 200 },
  });

  function operations(): { path: string; method: string; op: Operation }[] {
    return Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  }

  it('serves an OpenAPI 3.1 document whose operations are exactly the ones tested here', () => {
    expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');
    expect(operations().map((o) => o.op.operationId).sort()).toEqual(Object.keys(cases()).sort());
  });

  it('every route: no token → 401, a token without the scope → 403 insufficient_scope, unknown input → 400, all problem+json', async () => {
    for (const { path, method, op } of operations()) {
      const filled = path.replace('{client_id}', portalId).replace('{account_id}', accountId);
      const what = `${method} ${path}`;
      const none = await call(method, filled);
      expect(none.status, what).toBe(401);
      expect(none.type, what).toContain('application/problem+json');
      expect(none.headers.get('www-authenticate'), what).toContain('Bearer');

      const other = SCOPES.find((s) => s !== op['x-required-scope'])!;
      const wrong = await call(method, filled, { token: tokens[other] });
      expect(wrong.status, what).toBe(403);
      expect(wrong.type, what).toContain('application/problem+json');
      expect(wrong.headers.get('www-authenticate'), what).toContain(`error="insufficient_scope", scope="${op['x-required-scope']}"`);

      const unknownQuery = await call(method, `${filled}?bogus=1`, { token: allToken });
      expect(unknownQuery.status, what).toBe(400);
      expect(unknownQuery.type, what).toContain('application/problem+json');
      expect(unknownQuery.json?.errors, what).toContainEqual({ field: 'bogus', message: 'unknown query parameter' });
      if (op.requestBody) {
        const unknownField = await call(method, filled, { token: allToken, body: { sneaky: true }, headers: { 'if-match': '*' } });
        expect(unknownField.status, what).toBe(400);
        expect(unknownField.type, what).toContain('application/problem+json');
      }
    }
  });

  it('every route succeeds with the right token', async () => {
    const table = cases();
    // Deleting the portal comes last: the other portal routes use it.
    const ordered = operations().sort((a, b) => Number(a.op.operationId === 'deletePortal') - Number(b.op.operationId === 'deletePortal'));
    for (const { path, method, op } of ordered) {
      const test = table[op.operationId]!;
      const filled = (test.path ?? path).replace('{client_id}', portalId).replace('{account_id}', accountId);
      const headers = test.ifMatch ? { 'if-match': await test.ifMatch() } : undefined;
      const answer = await call(method, filled, { token: allToken, ...(test.body === undefined ? {} : { body: test.body }), ...(headers ? { headers } : {}) });
      expect(answer.status, `${method} ${path}: ${answer.text.slice(0, 300)}`).toBe(test.expect);
      if (op.operationId === 'inviteAccount') expect(answer.json).toMatchObject({ outcome: 'sent', detail: { sent_to: expect.any(String), expires_at: expect.any(String) } });
      if (['getPortal', 'getAccount'].includes(op.operationId)) expect(answer.headers.get('etag')).toMatch(/^".+"$/);
      if (op.operationId === 'exportAudit') expect(answer.text.split('\r\n')[0]).toBe('at,type,outcome,actor,on_behalf_of,account_id,client_id,ip,user_agent,id,detail');
    }
  });

  it('refuses wrong types, stale or missing If-Match, oversized bodies and tampered cursors, changing nothing', async () => {
    const read = await call('get', `/admin/api/v1/accounts/${accountId}`, { token: allToken });
    const etag = read.headers.get('etag')!;
    const wrongType = await call('patch', `/admin/api/v1/accounts/${accountId}`, { token: allToken, body: { given_name: 5 }, headers: { 'if-match': etag } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json?.errors).toEqual([{ field: 'given_name', message: expect.any(String) }]);
    const missing = await call('patch', `/admin/api/v1/accounts/${accountId}`, { token: allToken, body: { given_name: 'X' } });
    expect(missing.status).toBe(428);
    await call('patch', `/admin/api/v1/accounts/${accountId}`, { token: allToken, body: { given_name: 'Eerst' }, headers: { 'if-match': etag } });
    const stale = await call('patch', `/admin/api/v1/accounts/${accountId}`, { token: allToken, body: { given_name: 'Later' }, headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);
    expect(stale.type).toContain('application/problem+json');
    const huge = await call('post', '/admin/api/v1/accounts', { token: allToken, raw: JSON.stringify({ username: 'groot', email: 'groot@example.nl', given_name: 'x'.repeat(70_000) }), headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(413);
    expect(huge.type).toContain('application/problem+json');
    const notJson = await call('post', '/admin/api/v1/accounts', { token: allToken, raw: '{"username":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    const form = await call('post', '/admin/api/v1/accounts', { token: allToken, raw: 'username=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(415);
    const page = await call('get', '/admin/api/v1/audit?limit=1', { token: allToken });
    const cursor = String(page.json?.next_cursor);
    const tampered = await call('get', `/admin/api/v1/audit?limit=1&cursor=${encodeURIComponent(`x${cursor.slice(1)}`)}`, { token: allToken });
    expect(tampered.status).toBe(400);
    expect(tampered.type).toContain('application/problem+json');
    const after = await server.services.store.accounts.findById(accountId);
    expect(after?.givenName).toBe('Eerst');
    expect(await server.services.accounts.findByLogin('groot')).toBeUndefined();
  });

  it('does not take a session cookie, or a token for another audience, as a bearer', async () => {
    const cookie = await call('get', '/admin/api/v1/accounts', { headers: { cookie: `_session=${allToken}; _session.sig=x` } });
    expect(cookie.status).toBe(401);
    // A token of an ordinary portal (client_credentials without the admin resource) is refused.
    const other = await server.app.operations.portals.register(cli, { client_name: 'Gewoon portaal', redirect_uris: ['https://g.example/cb'], client_credentials: true });
    const rp = await relyingParty(server.url, other.portal.client_id, other.clientSecret);
    const portalToken = (await oidc.clientCredentialsGrant(rp.config, {})).access_token;
    expect((await call('get', '/admin/api/v1/accounts', { token: portalToken })).status).toBe(401);
    // Nor does a portal get admin scopes it was not registered with.
    await expect(oidc.clientCredentialsGrant(rp.config, { scope: 'admin:accounts', resource: `${server.url}/admin/api` })).rejects.toThrow();
  });

  it('dynamic client registration needs an initial access token and refuses admin-only fields', async () => {
    const metadata = { redirect_uris: ['https://zelf.example/cb'], client_name: 'Zelf geregistreerd' };
    const anonymous = await fetch(`${base}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) });
    expect(anonymous.status).toBe(401);
    const minted = await call('post', '/admin/api/v1/registration-tokens', { token: allToken, body: {} });
    const iat = String(minted.json?.initial_access_token);
    const register = (body: unknown) => fetch(`${base}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` }, body: JSON.stringify(body) });
    const withPolicy = await register({ ...metadata, mfa: 'optional' });
    expect(withPolicy.status, await withPolicy.clone().text()).toBe(400);
    expect(((await withPolicy.json()) as { error: string }).error).toBe('invalid_client_metadata');
    const withScope = await register({ ...metadata, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'admin:accounts' });
    expect(withScope.status).toBe(400);
    const ok = await register(metadata);
    expect(ok.status).toBe(201);
    const created = (await ok.json()) as { client_id: string; client_secret: string; registration_access_token: string; registration_client_uri: string };
    const stored = await server.services.store.clients.find(created.client_id);
    expect(stored?.metadata.client_secret).not.toBe(created.client_secret);
    // RFC 7592: read it back, and an update that tries to set a policy field is refused.
    const read = await fetch(created.registration_client_uri, { headers: { authorization: `Bearer ${created.registration_access_token}` } });
    expect(read.status).toBe(200);
    const update = await fetch(created.registration_client_uri, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${created.registration_access_token}` }, body: JSON.stringify({ ...metadata, client_id: created.client_id, mfa: 'optional' }) });
    expect(update.status).toBe(400);
    expect((await server.services.store.clients.find(created.client_id))?.metadata.mfa).toBeUndefined();
  });
  // Last: it moves the fake clock a day on.
  it('a rotated secret keeps working during the grace period and not after it', async () => {
    const { portal, clientSecret: first } = await server.app.operations.portals.register(cli, { client_name: 'Roterend', redirect_uris: ['https://r.example/cb'], client_credentials: true });
    const rotated = await call('post', `/admin/api/v1/portals/${portal.client_id}/secret`, { token: allToken });
    expect(rotated.status).toBe(200);
    const second = String(rotated.json?.client_secret);
    expect(second).not.toBe(first);
    const grant = async (secret: string) => oidc.clientCredentialsGrant((await relyingParty(server.url, portal.client_id, secret)).config, {});
    await expect(grant(first!)).resolves.toHaveProperty('access_token');
    await expect(grant(second)).resolves.toHaveProperty('access_token');
    clock.advance(24 * 3600_000 + 1000);
    await new Promise((resolve) => setTimeout(resolve, 5100)); // the client metadata cache (5 s, wall clock)
    await expect(grant(first!)).rejects.toThrow();
    await expect(grant(second)).resolves.toHaveProperty('access_token');
  });

});
