// `poortwachter db export` / `db import` / `db migrate` on SQLite: a practice moved to another
// database keeps its patients, their factors, its portals and its keys — compared field by field,
// then proved by a login with the same app and client secret. And the refusals: a database that is
// not empty, another SECRETS_KEY, a damaged line (named by its number, its type left out whole).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.ts';
import { cli } from '../support/cli.ts';
import { expectSameRecords, loginWithApp, openConfigured, seedSource, type Source } from '../support/transfer.ts';
import { startTestServer } from '../support/server.ts';
import { loadConfig } from '../../src/config.ts';
import { SecretBox } from '../../src/accounts/secret-box.ts';
import { BOUND_SECRETS_MARKER, readBoundMarker } from '../../src/accounts/bound-secrets.ts';
import { totpContext } from '../../src/factors/totp/totp-binding.ts';
import { phoneContext } from '../../src/accounts/accounts.ts';

describe('db export and import (SQLite → SQLite)', { timeout: 180_000 }, () => {
  let root: string;
  let source: Source;
  let dump: string;
  const dir = (name: string) => ({ DATA_DIR: path.join(root, name) });

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-transfer-'));
    source = await seedSource(dir('source'));
    const exported = await cli(['db', 'export'], dir('source'));
    // Three clients: the portal and the server's two internal ones (account pages, admin console).
    expect(exported.stderr).toMatch(/^Exported \d+ settings \(keys\), 1 password profiles, 3 clients, 2 organisations, 2 accounts, 3 organisation memberships, 1 admin roles, 2 portals of accounts, 6 credentials/);
    expect(exported.code).toBe(0);
    dump = exported.stdout;
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('writes a versioned header with a key check value, then one record per line', () => {
    const [header, ...records] = dump.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(header).toMatchObject({ format: 'poortwachter-export', version: 2, source: { store: 'sqlite', schemaVersion: SCHEMA_VERSION }, live: false });
    expect(header!.secretsKeyCheck).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(records.map((r) => r.type))).toEqual(new Set(['setting', 'password-profile', 'client', 'organisation', 'account', 'membership', 'admin-grant', 'account-portal', 'credential', 'device', 'lockout', 'audit']));
    // Stays sealed as stored: no TOTP key in the clear.
    expect(dump).not.toContain(source.totpKey);
    expect(dump).not.toContain(source.clientSecret);
  });

  it('imports into an empty database: every record equal, field by field; the same app and client secret sign in', async () => {
    const imported = await cli(['db', 'import', '--json'], dir('target'), dump);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ store: 'sqlite', imported: { account: 2, credential: 6, client: 3, device: 1, lockout: 1 }, kept: {} });

    const [from, to] = [await openConfigured(dir('source')), await openConfigured(dir('target'))];
    try {
      const compared = await expectSameRecords(from, to, { live: false });
      // Every kind of record was there to compare: TOTP, recovery codes, SMS and e-mail factors.
      expect(compared).toMatchObject({ account: 2, credential: 6, client: 3, device: 1, lockout: 1 });
      // And the admin side: profiles, organisations with their members, roles, each account's portals.
      expect(compared).toMatchObject({ 'password-profile': 1, organisation: 2, membership: 3, 'admin-grant': 1 });
      expect(compared['account-portal']).toBeGreaterThanOrEqual(2);
      const bram = (await to.accounts.findByLogin('bram'))!;
      expect(await to.organisations.memberships('account', bram.id)).toEqual(['praktijk-noord', 'praktijk-zuid']);
      expect((await to.adminGrants.find(bram.id))?.role).toBe('practice');
      expect(compared.setting).toBeGreaterThanOrEqual(2);
      expect(compared.audit).toBeGreaterThan(3);
      const types = (await to.credentials.listByAccount((await to.accounts.findByLogin('anna'))!.id)).map((c) => c.type).sort();
      expect(types).toEqual(['password', 'recovery', 'totp']);
    } finally {
      await from.close();
      await to.close();
    }
    await loginWithApp(dir('target'), source);
  });

  it('refuses a database that is not empty, unless --merge, which keeps what is there and lists it', async () => {
    const refused = await cli(['db', 'import'], dir('target'), dump);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/import refused: the target database is not empty \(it holds settings \(keys\), password profiles, clients, organisations, accounts, organisation memberships, admin roles, portals of accounts, credentials/);
    expect(refused.stderr).toContain('--merge');

    const merged = await cli(['db', 'import', '--merge', '--json'], dir('target'), dump);
    expect(merged.code).toBe(0);
    const report = JSON.parse(merged.stdout) as { imported: Record<string, number>; kept: Record<string, string[]> };
    expect(report.imported).toMatchObject({ account: 0, credential: 0, client: 0 });
    expect(report.kept.account).toHaveLength(2);
    expect(report.kept.credential).toHaveLength(6);
  });

  it('refuses an export made with another SECRETS_KEY, writing nothing', async () => {
    const otherKey = Buffer.alloc(32, 7).toString('base64');
    const refused = await cli(['db', 'import'], { ...dir('other-key'), SECRETS_KEY: otherKey }, dump);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('import refused: this export was made with a different SECRETS_KEY');
    const store = await openConfigured(dir('other-key'));
    try {
      expect(await store.accounts.list()).toEqual([]);
      expect(await store.settings.get('oidc.signing-keys')).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('stops at a damaged line with its number; that type is imported not at all, and --merge finishes the job after the fix', async () => {
    const lines = dump.trimEnd().split('\n');
    const secondAccount = lines.findLastIndex((line) => line.startsWith('{"type":"account"'));
    const damaged = [...lines];
    damaged[secondAccount] = damaged[secondAccount]!.slice(0, 40);
    const stopped = await cli(['db', 'import'], dir('damaged'), `${damaged.join('\n')}\n`);
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(`import stopped: line ${secondAccount + 1}: not a JSON object (a truncated or edited file?); no accounts were imported`);
    expect(stopped.stderr).toMatch(/Imported before the error \(kept in the database\): \d+ settings \(keys\), 1 password profiles, 3 clients, 2 organisations\./);
    expect(stopped.stderr).not.toMatch(/^\s+at /m);
    const store = await openConfigured(dir('damaged'));
    try {
      expect(await store.accounts.list()).toEqual([]);
      expect(await store.clients.list()).toHaveLength(3);
    } finally {
      await store.close();
    }

    const finished = await cli(['db', 'import', '--merge', '--json'], dir('damaged'), dump);
    expect(finished.code).toBe(0);
    expect(JSON.parse(finished.stdout)).toMatchObject({ imported: { account: 2, credential: 6, client: 0 } });
  });

  it('takes back the records of a type already written when a later line of it fails (more than one batch)', async () => {
    const lines = dump.trimEnd().split('\n');
    const lastAudit = lines.findLastIndex((line) => line.startsWith('{"type":"audit"'));
    const extra = Array.from({ length: 700 }, (_, i) => JSON.stringify({
      type: 'audit', record: { id: `synthetic-${i}`, at: Date.UTC(2026, 0, 1) + i, type: 'test.synthetic', accountId: null, clientId: null, ip: null, detail: {} },
    }));
    const damaged = [...lines.slice(0, lastAudit + 1), ...extra, '{"type":"audit","record":{"id":"broken"}}', ...lines.slice(lastAudit + 1)];
    const stopped = await cli(['db', 'import'], dir('batches'), damaged.join('\n'));
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(`line ${lastAudit + extra.length + 2}: audit: record.at:`);
    expect(stopped.stderr).toContain('no audit events were imported');
    const store = await openConfigured(dir('batches'));
    try {
      expect(await store.accounts.list()).toHaveLength(2);
      expect(await store.audit.list({ limit: 10_000 })).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('names a record that does not fit the format by line and field', async () => {
    const lines = dump.trimEnd().split('\n');
    const at = lines.findIndex((line) => line.startsWith('{"type":"credential"'));
    const record = JSON.parse(lines[at]!) as { type: string; record: Record<string, unknown> };
    record.record.createdAt = 'yesterday';
    lines[at] = JSON.stringify(record);
    const stopped = await cli(['db', 'import'], dir('bad-field'), lines.join('\n'));
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain(`line ${at + 1}: credential: record.createdAt:`);
    expect(stopped.stderr).toContain('no credentials were imported');
  });

  it('db migrate reports the schema version (SQLite migrates as it opens)', async () => {
    const run = await cli(['db', 'migrate', '--json'], dir('target'));
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ store: 'sqlite', from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    const fresh = await cli(['db', 'migrate'], dir('fresh'));
    expect(fresh.stdout).toBe(`Database migrated from schema version 0 to ${SCHEMA_VERSION} (sqlite).\n`);
  });

  it('an export from before binding (values sealed unbound, no marker) merged into an installation that bound its own: the import binds them, usable without a re-seal at start', async () => {
    const box = new SecretBox(loadConfig({ NODE_ENV: 'test', ...dir('source') }).secretsKey);
    // The dump as a version before binding wrote it: TOTP secrets and phone numbers sealed with the
    // empty context, and no marker among the settings.
    const old = dump.trimEnd().split('\n').flatMap((line) => {
      const parsed = JSON.parse(line) as { type?: string; record?: Record<string, unknown> };
      const record = parsed.record;
      if (parsed.type === 'setting' && record?.name === BOUND_SECRETS_MARKER) return [];
      if (parsed.type === 'credential' && record?.type === 'totp') {
        return [JSON.stringify({ ...parsed, record: { ...record, data: { ...(record.data as object), secretSealed: box.seal(source.totpKey) } } })];
      }
      if (parsed.type === 'account' && typeof record?.phoneEncrypted === 'string') {
        const phone = box.open(record.phoneEncrypted, phoneContext(record.id as string));
        return [JSON.stringify({ ...parsed, record: { ...record, phoneEncrypted: box.seal(phone) } })];
      }
      return [line];
    }).join('\n') + '\n';
    expect(old).not.toContain(BOUND_SECRETS_MARKER);

    // The target has run this version already: its marker says its values are bound.
    const started = await startTestServer({ env: dir('bound-target') });
    await started.close();
    const before = await openConfigured(dir('bound-target'));
    let marker: unknown;
    try {
      expect(await readBoundMarker(before, box)).toMatchObject({ state: 'done' });
      marker = await before.settings.get(BOUND_SECRETS_MARKER);
    } finally {
      await before.close();
    }
    const merged = await cli(['db', 'import', '--merge', '--json'], dir('bound-target'), old);
    expect(merged.stderr).toBe('');
    expect(JSON.parse(merged.stdout)).toMatchObject({ imported: { account: 2, credential: 6 } });
    // Bound by the import itself, before any start: the marker is left as it was.
    const after = await openConfigured(dir('bound-target'));
    try {
      expect(await after.settings.get(BOUND_SECRETS_MARKER)).toEqual(marker);
      const anna = (await after.accounts.findByLogin('anna'))!;
      expect(box.open(anna.phoneEncrypted!, phoneContext(anna.id))).toBe('+31612345678');
      const [app] = await after.credentials.listByAccount(anna.id, 'totp');
      expect(box.open(app!.data.secretSealed as string, totpContext(anna.id, app!.id))).toBe(source.totpKey);
    } finally {
      await after.close();
    }
    // And the app works at the next start (whose re-seal, done already, re-seals nothing).
    await loginWithApp(dir('bound-target'), source);
  });
});
