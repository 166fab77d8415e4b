// The administration CLI as an operator runs it: a separate process (Node with tsx) against a
// temporary DATA_DIR, judged by exit code, stdout and stderr. Finally the server opens the same
// data and a portal registered by the CLI signs in a patient created by the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.ts';
import { buildServices, startServer } from '../../src/bootstrap.ts';
import { createLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open.ts';
import { UserAgent } from '../support/user-agent.ts';
import { passwordLogin, relyingParty, REDIRECT_URI } from '../support/relying-party.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'src/admin/cli.ts');
const BIN = path.join(ROOT, 'bin/poortwachter.js');
const PASSWORD = 'Kastanje-Fietsbel-42';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Each run starts Node and loads the whole application (about a second on an idle machine, much
// more on a busy CI runner), hence the generous timeout.
describe('poortwachter CLI', { timeout: 120_000 }, () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-cli-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  /** Runs the CLI; `bin` goes through the launcher in bin/ instead of tsx directly. */
  function cli(args: string[], options: { input?: string; bin?: boolean } = {}): Promise<Run> {
    const argv = options.bin ? [BIN, ...args] : ['--import', 'tsx', CLI, ...args];
    // Only what the CLI needs: nothing from the developer's own environment (ISSUER, DATABASE_URL).
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATA_DIR: dataDir };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, argv, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      child.stdin.end(options.input ?? '');
    });
  }

  /** A successful --json run: exit 0 and stdout that is one JSON document and nothing else. */
  async function json<T>(args: string[], input?: string): Promise<T> {
    const run = await cli([...args, '--json'], { input });
    expect(run.stderr, run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as T;
  }

  const noStackTrace = (run: Run) => expect(run.stderr).not.toMatch(/^\s+at /m);

  interface ClientJson {
    client_id: string;
    client_secret?: string;
    metadata: Record<string, unknown>;
  }
  interface UserJson {
    username: string;
    phone: string | null;
    status: string;
  }
  interface KeyJson {
    kid: string;
    alg: string;
    remove_after?: string;
  }
  type KeysJson = Record<'current' | 'next' | 'retired', KeyJson[]> & { restart_required?: boolean };

  let clientId = '';
  let clientSecret = '';

  it('shows help through the bin launcher, and refuses bad invocations with exit 2', async () => {
    const [help, addHelp, missing, unknown, command] = await Promise.all([
      cli(['--help'], { bin: true }),
      cli(['client', 'add', '--help'], { bin: true }),
      cli(['client', 'add', '--name', 'X']),
      cli(['client', 'add', '--nmae', 'X', '--json']),
      cli(['client', 'rename']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('client add');
    expect(help.stdout).toContain('keys rotate');
    expect(addHelp.stdout).toContain('--redirect-uri URI');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--redirect-uri is required');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    // --json: the error is JSON too, and names the flag in a sentence (not node's parser text).
    expect(JSON.parse(unknown.stderr)).toEqual({ error: 'unknown option --nmae (did you mean --name?)', details: [], hint: 'See: poortwachter client add --help' });
    expect(command.code).toBe(2);
    [missing, unknown, command].forEach(noStackTrace);
  });

  it('explains unknown flags in a sentence, points from --password to --password-stdin, and answers --json with JSON errors', async () => {
    const [typo, password, passwordValue, missingValue, unknownUser, rejected, nothing] = await Promise.all([
      cli(['client', 'add', '--name', 'X', '--redirect-urii', 'http://localhost:9/cb']),
      cli(['user', 'add', '--username', 'a', '--email', 'a@example.nl', '--password', 'Geheim-123-abc']),
      cli(['user', 'add', '--username', 'a', '--email', 'a@example.nl', '--password=Geheim-123-abc', '--json']),
      cli(['client', 'add', '--name']),
      cli(['user', 'show', 'niemand', '--json']),
      cli(['user', 'add', '--json', '--username', 'zwak', '--email', 'zwak@example.nl', '--password-stdin'], { input: 'wachtwoord123\n' }),
      cli(['--json']),
    ]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('poortwachter: unknown option --redirect-urii (did you mean --redirect-uri?)\nSee: poortwachter client add --help\n');
    expect(password.code).toBe(2);
    expect(password.stderr).toContain('--password is not an option');
    expect(password.stderr).toContain('--password-stdin');
    // The password typed on the command line is not echoed back.
    expect(password.stderr + passwordValue.stderr).not.toContain('Geheim-123-abc');
    expect(passwordValue.code).toBe(2);
    expect(JSON.parse(passwordValue.stderr).error).toMatch(/^--password is not an option: .*--password-stdin/);
    expect(missingValue.code).toBe(2);
    expect(missingValue.stderr).toContain('poortwachter: --name needs a value');
    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stdout).toBe('');
    expect(JSON.parse(unknownUser.stderr)).toEqual({ error: 'no user niemand (see: poortwachter user list)', details: [] });
    expect(rejected.code).toBe(1);
    expect(JSON.parse(rejected.stderr)).toEqual({ error: 'password rejected:', details: ['a commonly used password (on the blocklist)'] });
    expect(nothing.code).toBe(2);
    expect(JSON.parse(nothing.stderr)).toMatchObject({ error: 'no command given' });
    [typo, password, passwordValue, missingValue, unknownUser, rejected, nothing].forEach(noStackTrace);
  });

  it('names a stray argument by its position and never echoes it (it is often a misplaced password)', async () => {
    const [stray, strayJson, none] = await Promise.all([
      cli(['user', 'add', '--username', 'a', '--email', 'a@example.nl', '--password-stdin', 'Hunter2Secret']),
      cli(['user', 'show', 'jan', 'Hunter2Secret', '--json']),
      cli(['keys', 'list', 'Hunter2Secret']),
    ]);
    for (const run of [stray, strayJson, none]) {
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).not.toContain('Hunter2Secret');
      noStackTrace(run);
    }
    expect(stray.stderr).toBe('poortwachter: unexpected argument at position 1: user add takes no arguments\nSee: poortwachter user add --help\n');
    expect(JSON.parse(strayJson.stderr)).toEqual({ error: 'unexpected argument at position 2: user show takes 1 (USERNAME)', details: [], hint: 'See: poortwachter user show --help' });
    expect(none.stderr).toContain('unexpected argument at position 1: keys list takes no arguments');
  });

  it('client add prints the client_id and, once, the secret', async () => {
    const added = await json<ClientJson>(['client', 'add', '--name', 'ZINN cliëntportaal', '--redirect-uri', REDIRECT_URI, '--first-party']);
    expect(added.client_id).toMatch(/^zinn-clientportaal-[0-9a-f]{8}$/);
    expect(added.client_secret).toMatch(/^[\w-]{40,}$/);
    expect(added.metadata).not.toHaveProperty('client_secret');
    expect(added.metadata).toMatchObject({ client_name: 'ZINN cliëntportaal', redirect_uris: [REDIRECT_URI], first_party: true, mfa: 'optional' });
    clientId = added.client_id;
    clientSecret = added.client_secret!;

    // Independent of each other: run side by side (SQLite waits for the other writer).
    const [human, invalid] = await Promise.all([
      cli(['client', 'add', '--name', 'Apotheek', '--redirect-uri', 'http://localhost:9/cb', '--public']),
      cli(['client', 'add', '--name', 'Kapot', '--redirect-uri', 'geen-url']),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/client_id:\s+apotheek-[0-9a-f]{8}/);
    expect(human.stdout).not.toContain('client_secret');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('redirect_uris');
    noStackTrace(invalid);
  });

  it('client list shows the portals but never a secret', async () => {
    const [human, list] = await Promise.all([cli(['client', 'list']), cli(['client', 'list', '--json'])]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${clientId}\\s+ZINN cliëntportaal\\s+secret, 1st party\\s+optional`));
    const clients = JSON.parse(list.stdout) as ClientJson[];
    expect(clients.map((c) => c.client_id)).toContain(clientId);
    expect(list.stdout + human.stdout).not.toContain(clientSecret);
  });

  it('client update changes the sign-in policy and keeps the rest', async () => {
    const updated = await json<ClientJson>(['client', 'update', clientId, '--mfa', 'required', '--mfa-methods', 'sms,totp', '--min-acr', 'substantial']);
    expect(updated.metadata).toMatchObject({ mfa: 'required', mfa_methods: ['sms', 'totp'], min_acr: 'urn:poortwachter:acr:substantial', first_party: true, redirect_uris: [REDIRECT_URI] });
    const [bad, unknown] = await Promise.all([
      cli(['client', 'update', clientId, '--mfa', 'sometimes']),
      cli(['client', 'update', 'bestaat-niet', '--mfa', 'required']),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--mfa must be one of: required, optional');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no portal bestaat-niet');

    // Back to optional for the sign-in at the end, and min_acr removed again.
    const reverted = await json<ClientJson>(['client', 'update', clientId, '--mfa', 'optional', '--min-acr', 'none']);
    expect(reverted.metadata).not.toHaveProperty('min_acr');
  });

  it('client remove removes, and says so when there is nothing to remove', async () => {
    const extra = await json<ClientJson>(['client', 'add', '--name', 'Tijdelijk', '--redirect-uri', 'http://localhost:9/cb']);
    expect((await cli(['client', 'remove', extra.client_id])).code).toBe(0);
    const again = await cli(['client', 'remove', extra.client_id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no portal ${extra.client_id}`);
  });

  it('user add takes the password from stdin and applies the password policy', async () => {
    const args = ['user', 'add', '--username', 'jdevries', '--email', 'j.devries@example.nl', '--phone', '06 12345616', '--given-name', 'Jan', '--family-name', 'de Vries', '--password-stdin'];
    const user = await json<UserJson>(args, `${PASSWORD}\n`);
    expect(user).toMatchObject({ username: 'jdevries', phone: '*****16', status: 'active' });

    const [common, phone, paid, service, taken] = await Promise.all([
      cli(['user', 'add', '--username', 'pietersen', '--email', 'pietersen@example.nl', '--password-stdin'], { input: 'wachtwoord123\n' }),
      cli(['user', 'add', '--username', 'klaas', '--email', 'klaas@example.nl', '--phone', '12345', '--password-stdin'], { input: `${PASSWORD}\n` }),
      cli(['user', 'add', '--username', 'betaal', '--email', 'betaal@example.nl', '--phone', '0909 1234567', '--password-stdin', '--json'], { input: `${PASSWORD}\n` }),
      cli(['user', 'add', '--username', 'service', '--email', 'service@example.nl', '--phone', '+44 909 8790000', '--password-stdin'], { input: `${PASSWORD}\n` }),
      cli(['user', 'add', '--username', 'jdevries', '--email', 'ander@example.nl', '--password-stdin'], { input: `${PASSWORD}\n` }),
    ]);
    // Paid and service numbers are refused before anything is written.
    expect(paid.code).toBe(1);
    expect(JSON.parse(paid.stderr).error).toMatch(/^--phone is a paid or service number/);
    expect(service.code).toBe(1);
    expect(service.stderr).toContain('--phone is a paid or service number');
    expect((await cli(['user', 'show', 'betaal'])).code).toBe(1);
    noStackTrace(paid);
    expect(common.code).toBe(1);
    expect(common.stdout).toBe('');
    expect(common.stderr).toContain('password rejected');
    expect(common.stderr).toContain('commonly used password');
    noStackTrace(common);
    expect(phone.code).toBe(1);
    expect(phone.stderr).toContain('--phone is not a valid phone number');
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('jdevries is taken');
  });

  it('user list never shows a phone number in full', async () => {
    const [human, list] = await Promise.all([cli(['user', 'list']), cli(['user', 'list', '--json'])]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/jdevries\s+j\.devries@example\.nl\s+\*{5}16\s+Jan de Vries/);
    // Only jdevries: the refused additions above left nothing half-made behind.
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ username: 'jdevries', phone: '*****16' })]);
    for (const out of [human.stdout, list.stdout]) expect(out).not.toMatch(/123456|612345616/);
  });

  it('user disable and enable switch the account status', async () => {
    const [disabled, unknown] = await Promise.all([json<UserJson>(['user', 'disable', 'jdevries']), cli(['user', 'disable', 'niemand'])]);
    expect(disabled.status).toBe('disabled');
    expect(unknown.code).toBe(1);
    expect((await json<UserJson>(['user', 'enable', 'jdevries'])).status).toBe('active');
  });

  it('user reset-mfa removes second factors, recovery codes and remembered devices', async () => {
    const store = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'poortwachter.sqlite') });
    const account = (await store.accounts.findByLogin('jdevries'))!;
    const now = Date.now();
    for (const type of ['totp', 'recovery']) await store.credentials.put({ id: `c-${type}`, accountId: account.id, type, data: { codes: [{ hash: 'x', usedAt: null }], secretSealed: 'x', lastUsedStep: 0 }, createdAt: now, lastUsedAt: null });
    await store.devices.put({ id: 'dev1', accountId: account.id, secretHash: 'h', factor: 'totp', strength: 2, amr: ['otp'], acr: 'x', label: 'x', createdAt: now, expiresAt: now + 3600_000, lastUsedAt: null });
    await store.close();
    const reset = await json<{ removed: string[] }>(['user', 'reset-mfa', 'jdevries']);
    expect(reset.removed).toEqual(['totp', 'recovery']);
    const after = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'poortwachter.sqlite') });
    expect((await after.credentials.listByAccount(account.id)).map((c) => c.type)).toEqual(['password']);
    expect(await after.devices.listByAccount(account.id, now)).toEqual([]);
    // The next login sets up a second factor (the enrol-second-factor action stored on the account).
    expect((await after.accounts.findById(account.id))?.requiredActions).toEqual(['enrol-second-factor']);
    await after.close();
  });

  it('keys rotate promotes the next key and retires the current one', async () => {
    const before = await json<KeysJson>(['keys', 'list']);
    const rotated = await json<KeysJson>(['keys', 'rotate']);
    const kids = (keys: KeyJson[]) => keys.map((k) => k.kid).sort();
    expect(kids(rotated.current)).toEqual(kids(before.next));
    expect(kids(rotated.current)).not.toEqual(kids(before.current));
    expect(kids(rotated.retired)).toEqual(kids(before.current));
    // Kept for max(ID token 3600 s, access token 600 s) + 1 h.
    const keep = Date.parse(rotated.retired[0]!.remove_after!) - Date.now();
    expect(keep).toBeGreaterThan(7000_000);
    expect(keep).toBeLessThanOrEqual(7200_000);
    expect(rotated.restart_required).toBe(false);
  });

  it('audit export writes the trail as JSON lines, oldest first, also before a date', async () => {
    const all = await cli(['audit', 'export']);
    expect(all.code).toBe(0);
    const events = all.stdout.trim().split('\n').map((line) => JSON.parse(line) as { at: string; type: string; detail: Record<string, unknown> });
    expect(events.length).toBeGreaterThan(3);
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort());
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['admin.client.added', 'admin.keys.rotated']));
    expect(all.stderr).toContain(`${events.length} audit events exported`);
    const before = await cli(['audit', 'export', '--until', events[1]!.at]);
    expect(before.stdout.trim().split('\n')).toHaveLength(1);
    const bad = await cli(['audit', 'export', '--until', 'yesterday-ish']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--until must be a date');
  });

  it('db vacuum compacts the database', async () => {
    const run = await json<{ store: string; seconds: number }>(['db', 'vacuum']);
    expect(run.store).toBe('sqlite');
  });

  it('wrote to the data the server uses: its portal signs its patient in with the current key', async () => {
    const keys = await json<KeysJson>(['keys', 'list']);
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0' });
    const services = await buildServices(config, { logger: createLogger('silent') });
    const server = await startServer(services, { port: 0, host: '127.0.0.1', issuerFromAddress: true });
    try {
      const rp = await relyingParty(server.url, clientId, clientSecret);
      // jdevries has to set up a second factor since reset-mfa; a patient with only a password signs in.
      const patient = await services.accounts.create({ username: 'mbakker', email: 'm.bakker@example.nl' });
      await services.passwords.set(patient, PASSWORD);
      const tokens = await passwordLogin(rp, new UserAgent(), 'mbakker', PASSWORD);
      expect(tokens.claims()).toMatchObject({ acr: 'urn:poortwachter:acr:low' });
      const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as { kid: string };
      expect(keys.current.map((k) => k.kid)).toContain(header.kid);
      // Published: the current, next and still-retired keys, so no portal meets an unknown kid.
      const jwks = (await (await fetch(rp.config.serverMetadata().jwks_uri!)).json()) as { keys: { kid: string }[] };
      const published = [...keys.current, ...keys.next, ...keys.retired].map((k) => k.kid).sort();
      expect(jwks.keys.map((k) => k.kid).sort()).toEqual(published);
    } finally {
      await server.close();
    }
  });
});
