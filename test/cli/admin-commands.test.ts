// `poortwachter org|admin|dcr` and `client add --service`, run in-process against the data of a
// running server (same DATA_DIR), through the admin operations the API and the console use.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCliWith, type CliRun } from '../support/cli.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { relyingParty } from '../support/relying-party.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

/** The CLI against this test's server. */
async function cli(args: string[]): Promise<CliRun> {
  return runCliWith(args, { DATA_DIR: server.dataDir, PATH: process.env.PATH ?? '', ISSUER: server.url, DEV_OUTBOX: 'false' });
}

describe('poortwachter org, admin, dcr and service clients', () => {
  it('org add|list|remove, refusing a taken id and an unknown one', async () => {
    expect((await cli(['org', 'add', 'praktijk-zuid', '--name', 'Praktijk Zuid'])).code).toBe(0);
    const taken = await cli(['org', 'add', 'praktijk-zuid', '--name', 'Nog eens']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('organisation praktijk-zuid exists already');
    const listed = await cli(['org', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: 'praktijk-zuid', name: 'Praktijk Zuid' })]);
    expect((await cli(['org', 'add', 'Bad Id', '--name', 'X'])).code).toBe(1);
    expect((await cli(['org', 'remove', 'bestaat-niet'])).stderr).toContain('no organisation bestaat-niet');
  });

  it('admin grant|list|revoke, audited; a practice needs an organisation', async () => {
    const account = await server.addUser({ username: 'assistent' });
    expect((await cli(['admin', 'grant', 'assistent', '--role', 'practice'])).stderr).toContain('needs at least one organisation');
    expect((await cli(['admin', 'grant', 'assistent', '--role', 'practice', '--organisation', 'praktijk-zuid'])).stderr).toContain('has no authenticator app or passkey');
    await server.services.store.credentials.put({ id: 'assistent-totp', accountId: account.id, type: 'totp', data: { secretSealed: 'x' }, createdAt: 1, lastUsedAt: null });
    const granted = await cli(['admin', 'grant', 'assistent', '--role', 'practice', '--organisation', 'praktijk-zuid', '--json']);
    expect(granted.code, granted.stderr).toBe(0);
    expect(JSON.parse(granted.stdout)).toMatchObject({ role: 'practice', organisations: ['praktijk-zuid'] });
    expect((await cli(['admin', 'list'])).stdout).toMatch(/assistent\s+practice\s+praktijk-zuid/);
    expect((await cli(['admin', 'revoke', 'assistent'])).code).toBe(0);
    expect((await cli(['admin', 'revoke', 'assistent'])).code).toBe(1);
    const events = await server.services.store.audit.search({ accountId: account.id, limit: 10 });
    expect(events.map((e) => e.type)).toEqual(['admin.role.revoked', 'admin.role.granted']);
    expect(events[0]?.actor).toMatch(/^operator:/);
  });

  it('user update --organisation and client add --organisation place accounts and portals', async () => {
    await server.addUser({ username: 'patient1' });
    const updated = await cli(['user', 'update', 'patient1', '--organisation', 'praktijk-zuid', '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ organisations: ['praktijk-zuid'], changed: ['organisations'] });
    const added = await cli(['client', 'add', '--name', 'Zuid portaal', '--redirect-uri', 'https://zuid.example/cb', '--organisation', 'praktijk-zuid', '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ organisations: ['praktijk-zuid'] });
    expect((await cli(['client', 'add', '--name', 'X', '--redirect-uri', 'https://x.example/cb', '--organisation', 'onbekend'])).stderr).toContain('no organisation onbekend');
  });

  it('client add --service --scopes registers an admin API client whose token works at the API', async () => {
    const added = await cli(['client', 'add', '--name', 'Koppeling', '--service', '--scopes', 'admin:accounts admin:audit', '--json']);
    expect(added.code, added.stderr).toBe(0);
    const { client_id: clientId, client_secret: secret } = JSON.parse(added.stdout) as { client_id: string; client_secret: string };
    const rp = await relyingParty(server.url, clientId, secret);
    const token = (await oidc.clientCredentialsGrant(rp.config, { scope: 'admin:accounts admin:clients' })).access_token;
    const accounts = await fetch(`${server.url}/admin/api/v1/accounts?q=patient1`, { headers: { authorization: `Bearer ${token}` } });
    expect(accounts.status).toBe(200);
    // Not registered with admin:clients: the token does not carry it.
    expect((await fetch(`${server.url}/admin/api/v1/portals`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    expect((await cli(['client', 'add', '--name', 'Y', '--service'])).code).toBe(2);
  });

  it('dcr token mints an initial access token that registers a portal once presented', async () => {
    const minted = await cli(['dcr', 'token', '--expires', '1h', '--json']);
    expect(minted.code, minted.stderr).toBe(0);
    const { initial_access_token: iat } = JSON.parse(minted.stdout) as { initial_access_token: string };
    const registered = await fetch(`${server.url}/reg`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${iat}` }, body: JSON.stringify({ redirect_uris: ['https://zelf.example/cb'] }) });
    expect(registered.status).toBe(201);
    expect((await cli(['dcr', 'token', '--expires', 'soon'])).code).toBe(2);
  });
});
