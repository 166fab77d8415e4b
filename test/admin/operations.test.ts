// The admin operations through the real services (the server's store, registry and mailer): who
// may see and change what, what is audited, and that a refused call changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp-server.ts';
import { adminDeps, createAdminOperations, OperationError, type Actor, type AdminOperations } from '../../src/admin/operations/index.ts';

const cli: Actor = { kind: 'cli', operator: 'tester' };
const practiceA: Actor = { kind: 'admin', accountId: 'admin-a', username: 'assistent-a', role: 'practice', organisations: ['praktijk-a'], ip: '192.0.2.7' };
const auditor: Actor = { kind: 'admin', accountId: 'admin-audit', username: 'auditor', role: 'auditor', organisations: [] };
const apiAccounts: Actor = { kind: 'api', clientId: 'automation', scopes: ['admin:accounts'], organisations: [] };

async function refused(promise: Promise<unknown>): Promise<OperationError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(OperationError);
  return error as OperationError;
}

describe('admin operations', () => {
  let server: TestServer;
  let smtp: TestSmtpServer;
  let ops: AdminOperations;
  let accountA: string;
  let accountB: string;
  let portalB: string;

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({ env: { SMTP_URL: smtp.url } });
    ops = createAdminOperations(adminDeps(server.services, async () => server.clients));
    await ops.organisations.add(cli, { id: 'praktijk-a', name: 'Praktijk A' });
    await ops.organisations.add(cli, { id: 'praktijk-b', name: 'Praktijk B' });
    accountA = (await ops.accounts.create(cli, { username: 'anna', email: 'anna@example.nl', given_name: 'Anna', organisations: ['praktijk-a'] })).account.id;
    accountB = (await ops.accounts.create(cli, { username: 'bert', email: 'bert@example.nl', given_name: 'Bert', organisations: ['praktijk-b'] })).account.id;
    portalB = (await ops.portals.register(cli, { client_name: 'Portaal B', redirect_uris: ['https://b.example/cb'], organisations: ['praktijk-b'] })).portal.client_id;
  });

  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('a practice admin sees and changes only its own organisation\'s accounts', async () => {
    const found = await ops.accounts.search(practiceA, {});
    expect(found.items.map((a) => a.username)).toEqual(['anna']);
    expect((await ops.accounts.get(practiceA, accountA)).account.username).toBe('anna');
    // Another organisation's account is absent to it, for reading and for every change.
    expect((await refused(ops.accounts.get(practiceA, accountB))).code).toBe('not_found');
    expect((await refused(ops.accounts.update(practiceA, accountB, { given_name: 'X' }))).code).toBe('not_found');
    expect((await refused(ops.accountSecurity.setStatus(practiceA, accountB, 'disabled'))).code).toBe('not_found');
    expect((await refused(ops.accountSecurity.resetSecondFactors(practiceA, accountB))).code).toBe('not_found');
    expect((await refused(ops.accountSecurity.revokeSessions(practiceA, accountB))).code).toBe('not_found');
    expect((await refused(ops.audit.accountTrail(practiceA, accountB, {}))).code).toBe('not_found');
    const bert = await server.services.store.accounts.findById(accountB);
    expect(bert?.givenName).toBe('Bert');
    expect(bert?.status).toBe('active');
  });

  it('a practice admin cannot search its way into another organisation', async () => {
    expect((await ops.accounts.search(practiceA, { organisation: 'praktijk-b' })).items).toEqual([]);
    expect((await ops.accounts.search(practiceA, { q: 'bert' })).items).toEqual([]);
  });

  it('a practice admin sees and changes only its own organisation\'s portals', async () => {
    const own = await ops.portals.register(practiceA, { client_name: 'Portaal A', redirect_uris: ['https://a.example/cb'] });
    expect(own.portal.organisations).toEqual(['praktijk-a']);
    expect((await ops.portals.list(practiceA)).map((p) => p.client_id)).toEqual([own.portal.client_id]);
    expect((await refused(ops.portals.get(practiceA, portalB))).code).toBe('not_found');
    expect((await refused(ops.portals.update(practiceA, portalB, { client_name: 'Overgenomen' }))).code).toBe('not_found');
    expect((await refused(ops.portals.rotateSecret(practiceA, portalB))).code).toBe('not_found');
    expect((await refused(ops.portals.setDisabled(practiceA, portalB, true))).code).toBe('not_found');
    expect((await refused(ops.portals.remove(practiceA, portalB))).code).toBe('not_found');
    // Nor can it move its own portal or account into an organisation that is not its own.
    expect((await refused(ops.portals.update(practiceA, own.portal.client_id, { organisations: ['praktijk-b'] }))).code).toBe('forbidden');
    expect((await refused(ops.accounts.create(practiceA, { username: 'cees', email: 'cees@example.nl', organisations: ['praktijk-b'] }))).code).toBe('forbidden');
    expect((await refused(ops.portals.register(practiceA, { client_name: 'API', type: 'service', scopes: ['admin:accounts'] }))).code).toBe('forbidden');
    const b = await server.services.store.clients.find(portalB);
    expect(b?.metadata.client_name).toBe('Portaal B');
    expect(b?.metadata.disabled).toBeUndefined();
  });

  it('an auditor reads the audit log and changes nothing', async () => {
    const log = await ops.audit.search(auditor, { type: 'admin.user.added' });
    expect(log.items.length).toBeGreaterThanOrEqual(2);
    for (const attempt of [
      ops.accounts.create(auditor, { username: 'dirk', email: 'dirk@example.nl' }),
      ops.accounts.update(auditor, accountA, { given_name: 'X' }),
      ops.accounts.get(auditor, accountA),
      ops.accountSecurity.unlock(auditor, accountA),
      ops.accountSecurity.setStatus(auditor, accountA, 'disabled'),
      ops.portals.register(auditor, { client_name: 'X', redirect_uris: ['https://x.example/cb'] }),
      ops.portals.remove(auditor, portalB),
      ops.organisations.add(auditor, { id: 'praktijk-x', name: 'X' }),
      ops.admins.grant(auditor, { username: 'anna', role: 'operator' }),
    ]) {
      expect((await refused(attempt)).code).toBe('forbidden');
    }
    expect(await server.services.accounts.findByLogin('dirk')).toBeUndefined();
    expect((await server.services.store.accounts.findById(accountA))?.givenName).toBe('Anna');
  });

  it('an API client is bound by its scopes', async () => {
    expect((await ops.accounts.get(apiAccounts, accountB)).account.username).toBe('bert');
    expect((await refused(ops.portals.list(apiAccounts))).code).toBe('forbidden');
    expect((await refused(ops.audit.search(apiAccounts, {}))).code).toBe('forbidden');
  });

  it('audits every change with actor, organisation acted for, address and outcome', async () => {
    await ops.accountSecurity.setStatus(practiceA, accountA, 'disabled');
    await ops.accountSecurity.setStatus(practiceA, accountA, 'active');
    const trail = await ops.audit.accountTrail(practiceA, accountA, {});
    const [enabled] = trail.items;
    expect(enabled).toMatchObject({ type: 'admin.user.enabled', outcome: 'enabled', actor: 'admin:admin-a', on_behalf_of: ['praktijk-a'], account_id: accountA, ip: '192.0.2.7' });
  });

  it('pages accounts with a signed cursor; a tampered or foreign cursor is refused', async () => {
    for (const name of ['c1', 'c2', 'c3']) await ops.accounts.create(cli, { username: `paging-${name}`, email: `${name}@example.nl` });
    const first = await ops.accounts.search(cli, { q: 'paging-', limit: 2 });
    expect(first.items.map((a) => a.username)).toEqual(['paging-c1', 'paging-c2']);
    const cursor = first.next_cursor!;
    const second = await ops.accounts.search(cli, { q: 'paging-', limit: 2, cursor });
    expect(second.items.map((a) => a.username)).toEqual(['paging-c3']);
    expect(second.next_cursor).toBeNull();
    const [body, mac] = cursor.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ u: 'a', i: 'x' })).toString('base64url');
    expect((await refused(ops.accounts.search(cli, { q: 'paging-', cursor: `${forged}.${mac}` }))).code).toBe('invalid_input');
    expect((await refused(ops.accounts.search(cli, { q: 'paging-', cursor: `${body}.${mac.slice(1)}x` }))).code).toBe('invalid_input');
    // A cursor of one query does not continue another.
    expect((await refused(ops.accounts.search(cli, { q: 'other', cursor }))).code).toBe('invalid_input');
  });

  it('refuses stale ETags and unknown fields, changing nothing', async () => {
    const { etag } = await ops.accounts.get(cli, accountA);
    await ops.accounts.update(cli, accountA, { family_name: 'Jansen' }, etag);
    expect((await refused(ops.accounts.update(cli, accountA, { family_name: 'de Boer' }, etag))).code).toBe('precondition_failed');
    const unknown = await refused(ops.accounts.update(cli, accountA, { family_name: 'de Boer', admin: true }));
    expect(unknown.code).toBe('invalid_input');
    expect(unknown.problems).toContainEqual({ field: 'admin', message: 'unknown field' });
    expect((await server.services.store.accounts.findById(accountA))?.familyName).toBe('Jansen');
  });

  it('reset 2FA removes the factors, requires enrolment at the next login and tells the patient', async () => {
    const result = await ops.accountSecurity.resetSecondFactors(practiceA, accountA);
    expect(result.noticeSent).toBe(true);
    expect((await server.services.store.accounts.findById(accountA))?.requiredActions).toContain('enrol-second-factor');
    const mail = await smtp.waitForMail('anna@example.nl');
    expect(mail.subject).toBe('Uw tweestapsverificatie is opnieuw ingesteld');
  });

  it('invite answers invitation_unavailable while no invitation service exists', async () => {
    expect((await refused(ops.accountSecurity.invite(cli, accountA))).code).toBe('invitation_unavailable');
  });

  it('grants, lists and revokes admin roles (operators only), audited', async () => {
    const anna = (await server.services.accounts.findByLogin('anna'))!;
    // Only an account with an app or passkey gets a role (the console takes no factor set up in its login).
    expect((await refused(ops.admins.grant(cli, { username: 'anna', role: 'practice', organisations: ['praktijk-a'] }))).code).toBe('conflict');
    await server.services.store.credentials.put({ id: 'anna-totp', accountId: anna.id, type: 'totp', data: { secretSealed: 'x' }, createdAt: 1, lastUsedAt: null });
    const granted = await ops.admins.grant(cli, { username: 'anna', role: 'practice', organisations: ['praktijk-a'] });
    expect(granted).toMatchObject({ role: 'practice', organisations: ['praktijk-a'], granted_by: 'operator:tester' });
    expect((await refused(ops.admins.grant(cli, { username: 'anna', role: 'practice' }))).code).toBe('invalid_input');
    expect((await refused(ops.admins.grant(practiceA, { username: 'anna', role: 'operator' }))).code).toBe('forbidden');
    expect((await ops.admins.list(cli)).map((a) => a.username)).toEqual(['anna']);
    // A changed role keeps the first grant's time (the console takes only methods held then);
    // revoking and granting again is what moves it.
    const stored = (await server.services.store.adminGrants.find(anna.id))!;
    await server.services.store.adminGrants.put({ ...stored, grantedAt: 1_000 });
    expect(await ops.admins.grant(cli, { username: 'anna', role: 'auditor' })).toMatchObject({ role: 'auditor', granted_at: new Date(1_000).toISOString() });
    await ops.admins.revoke(cli, 'anna');
    expect((await ops.admins.grant(cli, { username: 'anna', role: 'auditor' })).granted_at).not.toBe(new Date(1_000).toISOString());
    expect((await ops.admins.list(cli)).map((a) => a.username)).toEqual(['anna']);
    await ops.admins.revoke(cli, 'anna');
    expect(await ops.admins.list(cli)).toEqual([]);
    const events = (await ops.audit.search(cli, { account_id: accountA })).items.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['admin.role.granted', 'admin.role.revoked']));
  });
});
