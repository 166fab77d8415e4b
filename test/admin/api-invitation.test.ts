// POST /admin/api/v1/accounts/{id}/invitation with the invitations service wired (issue 9): the
// invitation mail goes out through the real SMTP server with a working link; an account with a
// password gets 409 problem+json and no mail; the admin event is audited.
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { relyingParty } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';
import type { Actor } from '../../src/admin/operations/index.ts';

const cli: Actor = { kind: 'cli', operator: 'tester' };

describe('admin API: invitation', () => {
  let world: FactorWorld;
  let token: string;

  beforeAll(async () => {
    world = await startFactorWorld();
    const ops = world.server.app.operations;
    const { portal, clientSecret } = await ops.portals.register(cli, { client_name: 'API accounts', type: 'service', scopes: ['admin:accounts'] });
    const rp = await relyingParty(world.server.url, portal.client_id, clientSecret);
    token = (await oidc.clientCredentialsGrant(rp.config, { scope: 'admin:accounts' })).access_token;
  });

  afterAll(async () => {
    await world?.close();
  });

  const invite = (id: string, body: unknown = {}) => fetch(`${world.server.url}/admin/api/v1/accounts/${id}/invitation`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });

  it('mails the invitation with a working link, from the portal named', async () => {
    const ops = world.server.app.operations;
    const { portal } = await ops.portals.register(cli, { client_name: 'Mijn Therapie Dossier', redirect_uris: ['https://mtd.example/cb'], mail_from: 'Mijn Therapie Dossier <no-reply@mijntherapiedossier.nl>' });
    const { account } = await ops.accounts.create(cli, { username: 'api.invited', email: 'api.invited@example.nl' });
    const response = await invite(account.id, { client_id: portal.client_id });
    const body = await response.json() as Record<string, unknown>;
    expect(response.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ outcome: 'sent', detail: { sent_to: expect.any(String), expires_at: expect.any(String) } });
    const mail = await world.smtp.waitForMail('api.invited@example.nl');
    expect(mail.from).toContain('no-reply@mijntherapiedossier.nl');
    const link = /https?:\/\/\S+\/activate\/\S+/.exec(mail.text ?? '')?.[0];
    expect(link).toBeDefined();
    expect((await new UserAgent().open(link!)).status).toBe(200);
    const events = await world.server.services.store.audit.list({ type: 'admin.user.invited', accountId: account.id });
    expect(events[0]?.detail).toMatchObject({ outcome: 'sent', via: 'api' });
    // Again: a resend, and the earlier link stops working.
    expect((await invite(account.id)).status).toBe(200);
    await world.smtp.waitForMail('api.invited@example.nl');
    expect((await new UserAgent().open(link!)).status).toBe(404);
    expect((await world.server.services.store.audit.list({ type: 'invitation.resent', accountId: account.id })).length).toBe(1);
  });

  it('an account with a password: 409 problem+json, no mail', async () => {
    const account = await world.server.addUser({ username: 'api.has.password' });
    const before = world.smtp.messages.length;
    const response = await invite(account.id);
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(world.smtp.messages.length).toBe(before);
  });
});
