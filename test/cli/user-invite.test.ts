// `user invite` and `user resend-invite` (issue 9, Mijn Therapie Dossier), and the portal switches
// an activation reads (`client add --verify-phone --initiate-login-uri --mail-from`), run in-process
// against the data of a running server with a real SMTP server: exit codes, JSON, the mails (from
// the portal's sender, with the username and a link that opens the activation), and the audit trail.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli as runCliWith, type CliRun } from '../support/cli.ts';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';

let world: FactorWorld;
const OPERATOR = `operator:${os.userInfo().username}`;

beforeAll(async () => {
  world = await startFactorWorld();
});
afterAll(() => world?.close());

/** The CLI against this test's server. */
async function cli(args: string[]): Promise<CliRun> {
  return runCliWith(args, {
    DATA_DIR: world.server.dataDir, PATH: process.env.PATH ?? '', ISSUER: world.server.url,
    SMTP_URL: world.smtp.url, MAIL_FROM: 'Poortwachter <no-reply@poortwachter.test>', DEV_OUTBOX: 'false',
  });
}

async function json<T>(args: string[]): Promise<T> {
  const run = await cli([...args, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

function linkFromMail(text: string | undefined): string {
  const link = /https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(text ?? '')?.[0];
  if (!link) throw new Error(`no activation link in: ${text}`);
  return link;
}

describe('user invite', { timeout: 120_000 }, () => {
  let clientId: string;

  it('client add takes the activation switches and shows them', async () => {
    const added = await json<{ client_id: string; metadata: Record<string, unknown> }>([
      'client', 'add', '--name', 'Mijn Therapie Dossier', '--redirect-uri', 'https://mtd.example/cb', '--mfa', 'required', '--mfa-methods', 'totp,email',
      '--mail-from', 'Mijn Therapie Dossier <no-reply@mijntherapiedossier.nl>', '--verify-phone', 'on', '--initiate-login-uri', 'https://mtd.example/start',
    ]);
    clientId = added.client_id;
    expect(added.metadata).toMatchObject({ verify_phone: true, initiate_login_uri: 'https://mtd.example/start' });
    const shown = await cli(['client', 'show', clientId]);
    expect(shown.stdout).toContain('activation:          phone verified by SMS, ends at https://mtd.example/start');
    const updated = await json<{ metadata: Record<string, unknown> }>(['client', 'update', clientId, '--verify-phone', 'off', '--initiate-login-uri', 'none']);
    expect(updated.metadata.verify_phone).toBe(false);
    expect(updated.metadata.initiate_login_uri).toBeUndefined();
    await json(['client', 'update', clientId, '--verify-phone', 'on']);
    const refused = await cli(['client', 'update', clientId, '--initiate-login-uri', 'http://mtd.example/start']);
    expect(refused.code).not.toBe(0);
  });

  it('creates the account without a password and mails the invitation from the portal\'s sender', async () => {
    const result = await json<Record<string, unknown>>(['user', 'invite', '--username', 'sdeboer', '--email', 's.deboer@example.nl', '--phone', '06 1234 1361', '--client', clientId, '--given-name', 'Sanne', '--family-name', 'de Boer']);
    expect(result).toMatchObject({ username: 'sdeboer', created: true, invitation: { sent_to: expect.stringContaining('@example.nl'), client_id: clientId } });
    const mail = await world.smtp.waitForMail('s.deboer@example.nl');
    expect(mail.from).toContain('no-reply@mijntherapiedossier.nl');
    expect(mail.text).toContain('sdeboer');
    expect(mail.text).toContain('Beste Sanne');
    const link = linkFromMail(mail.text);
    // The link is the patient's: the CLI's output does not hold it.
    expect(JSON.stringify(result)).not.toContain(link.split('/activate/')[1]);
    const page = await new UserAgent().open(link);
    expect(page.status).toBe(200);
    expect(textOf(page)).toContain('Gebruikersnaam en e-mailadres zijn ingevuld');
    const account = await world.server.services.accounts.findByLogin('sdeboer');
    expect(await world.server.services.passwords.has(account!)).toBe(false);
    const events = await world.server.services.store.audit.list({ type: 'invitation.sent', accountId: account!.id });
    expect(events[0]).toMatchObject({ actor: OPERATOR, clientId });
    expect((await world.server.services.store.audit.list({ type: 'admin.user.invited', accountId: account!.id }))[0]?.detail).toMatchObject({ outcome: 'created', via: 'cli' });
  });

  it('resend-invite sends a new link and the earlier one stops working', async () => {
    const first = linkFromMail((await world.smtp.messages.filter((m) => m.envelopeTo.includes('s.deboer@example.nl')).at(-1))?.text);
    const result = await json<Record<string, unknown>>(['user', 'resend-invite', 'sdeboer']);
    expect(result).toMatchObject({ username: 'sdeboer', invitation: { expires_at: expect.any(String) } });
    const mail = await world.smtp.waitForMail('s.deboer@example.nl');
    // The portal of the last invitation is kept: its sender again.
    expect(mail.from).toContain('no-reply@mijntherapiedossier.nl');
    const second = linkFromMail(mail.text);
    expect(second).not.toBe(first);
    expect((await new UserAgent().open(first)).status).toBe(404);
    expect((await new UserAgent().open(second)).status).toBe(200);
  });

  it('invites an existing account without a password again, and refuses one with a password', async () => {
    const again = await json<Record<string, unknown>>(['user', 'invite', '--username', 'sdeboer', '--email', 's.deboer@example.nl']);
    expect(again.created).toBe(false);
    await world.server.addUser({ username: 'has.password' });
    const refused = await cli(['user', 'invite', '--username', 'has.password', '--email', 'has.password@example.nl']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already has a password');
    const resendRefused = await cli(['user', 'resend-invite', 'has.password']);
    expect(resendRefused.code).toBe(1);
    expect(resendRefused.stderr).toContain('already has a password');
  });

  it('refuses bad input with a clear message, creating nothing', async () => {
    for (const [args, message] of [
      [['--username', 'x', '--email', 'x@example.nl'], 'username'],
      [['--username', 'bad.mail', '--email', 'not-an-address'], 'e-mail'],
      [['--username', 'bad.phone', '--email', 'bad.phone@example.nl', '--phone', '0900 1234'], 'phone'],
      [['--username', 'bad.client', '--email', 'bad.client@example.nl', '--client', 'no-such-portal'], 'no portal'],
    ] as const) {
      const run = await cli(['user', 'invite', ...args]);
      expect(run.code, run.stdout).toBe(1);
      expect(run.stderr).toContain(message);
    }
    for (const name of ['bad.mail', 'bad.phone', 'bad.client']) expect(await world.server.services.accounts.findByLogin(name)).toBeUndefined();
    const missing = await cli(['user', 'invite', '--username', 'no.email']);
    expect(missing.code).not.toBe(0);
  });
});
