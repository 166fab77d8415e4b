import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { SCHEMA_VERSION } from '../../src/store/sqlite/schema.ts';
import { runStoreContract } from './contract.ts';
import { runLifecycleStoreContract } from './lifecycle-contract.ts';
import { runAdminStoreContract } from './admin-contract.ts';
import { DuplicateError, type AccountRecord } from '../../src/store/port.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-store-'));
// A directory that does not exist yet: opening the store must create it.
const file = path.join(dir, 'data', 'poortwachter.sqlite');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

runStoreContract('sqlite', async () => openSqliteStore(file));
runLifecycleStoreContract('sqlite', async () => openSqliteStore(file));
runAdminStoreContract('sqlite', async () => openSqliteStore(file));

describe('sqlite store file', () => {
  it('creates the file and its parent directory, in WAL mode at the current schema version', async () => {
    const fresh = path.join(dir, 'fresh', 'nested', 'store.sqlite');
    const store = openSqliteStore(fresh);
    await store.close();

    expect(existsSync(fresh)).toBe(true);
    // A separate connection sees what is persisted in the file, not one connection's settings.
    const db = new Database(fresh, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('refuses a file written by a newer schema version', async () => {
    const newer = path.join(dir, 'newer.sqlite');
    await openSqliteStore(newer).close();
    const db = new Database(newer);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();

    expect(() => openSqliteStore(newer)).toThrow(new RegExp(`newer.sqlite: was written by a newer Poortwachter \\(schema version ${SCHEMA_VERSION + 1}; this version knows up to ${SCHEMA_VERSION}\\)`));
  });

  it('brings a version-1 file up to date: codes written before stay readable (no flow), session proofs work, accounts have no required actions, remembered devices get their own fields', async () => {
    const older = path.join(dir, 'version-1.sqlite');
    await openSqliteStore(older).close();
    // What a file of the first release looks like: no flow on codes, no session proofs.
    const db = new Database(older);
    db.exec(`
      DROP TABLE session_proofs;
      ALTER TABLE one_time_codes DROP COLUMN flow_id;
      DROP TABLE password_profiles;
      DROP TABLE account_portals;
      DROP INDEX flows_account;
      DROP INDEX audit_events_actor;
      ALTER TABLE audit_events DROP COLUMN actor;
      ALTER TABLE audit_events DROP COLUMN user_agent;
      DROP INDEX oidc_models_account;
      ALTER TABLE oidc_models DROP COLUMN account_id;
      ALTER TABLE accounts DROP COLUMN required_actions;
      ALTER TABLE devices DROP COLUMN factor;
      ALTER TABLE devices DROP COLUMN strength;
      INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, phone_verified, locale, status, settings, created_at, updated_at)
        VALUES ('old', 'old', 'old', 'old@example.nl', 'old@example.nl', 0, 0, 'nl', 'active', '{}', 1, 1);
      INSERT INTO one_time_codes (id, account_id, purpose, code_hash, attempts, sent_at, expires_at, consumed_at)
        VALUES ('code', 'old', 'login:sms', 'hash', 0, 1000, 9000, NULL);
      -- A remembered device as version 1 wrote it: the factor and its strength in front of the amr values.
      INSERT INTO devices (id, account_id, secret_hash, amr, acr, label, created_at, expires_at, last_used_at)
        VALUES ('device', 'old', 'hash', '["sms","2","sms"]', 'urn:poortwachter:acr:substantial', 'Firefox', 1000, 9000, NULL);
    `);
    db.pragma('user_version = 1');
    db.close();

    const store = openSqliteStore(older);
    try {
      expect((await store.codes.findActive('old', 'login:sms', 2000))?.flowId).toBeNull();
      // Accounts from before required actions have none.
      expect((await store.accounts.findById('old'))?.requiredActions).toEqual([]);
      // A remembered device keeps standing in for exactly what it did, now in fields of its own.
      expect(await store.devices.find('device', 2000)).toMatchObject({ factor: 'sms', strength: 2, amr: ['sms'] });
      await store.sessionProofs.put({ sessionUid: 'uid', accountId: 'old', proofs: [], login: { startedAt: 1000, completedAt: 1500 }, expiresAt: 9000 });
      expect(await store.sessionProofs.find('uid', 2000)).toEqual({ sessionUid: 'uid', accountId: 'old', proofs: [], login: { startedAt: 1000, completedAt: 1500 }, expiresAt: 9000 });
    } finally {
      await store.close();
    }
  });

  it('migrates a version-3 file: session proofs recorded before keep working, without their login', async () => {
    const older = path.join(dir, 'version-3.sqlite');
    await openSqliteStore(older).close();
    // What a file of the flow-bound codes release looks like: session proofs without the login.
    const db = new Database(older);
    db.exec(`
      ALTER TABLE session_proofs DROP COLUMN login_started_at;
      ALTER TABLE session_proofs DROP COLUMN login_completed_at;
      DROP TABLE password_profiles;
      DROP TABLE account_portals;
      DROP INDEX flows_account;
      DROP INDEX session_proofs_account;
      DROP INDEX audit_events_actor;
      ALTER TABLE audit_events DROP COLUMN actor;
      ALTER TABLE audit_events DROP COLUMN user_agent;
      DROP INDEX oidc_models_account;
      ALTER TABLE oidc_models DROP COLUMN account_id;
      ALTER TABLE accounts DROP COLUMN required_actions;
      ALTER TABLE devices DROP COLUMN factor;
      ALTER TABLE devices DROP COLUMN strength;
      INSERT INTO session_proofs (session_uid, account_id, proofs, expires_at)
        VALUES ('before', 'acc', '[{"factor":"password","amr":["pwd"],"strength":1,"at":1000,"replayed":false}]', 9000);
    `);
    db.pragma('user_version = 3');
    db.close();

    const store = openSqliteStore(older);
    try {
      expect(await store.sessionProofs.find('before', 2000)).toEqual({
        sessionUid: 'before', accountId: 'acc', proofs: [{ factor: 'password', amr: ['pwd'], strength: 1, at: 1000, replayed: false }], login: null, expiresAt: 9000,
      });
      expect(await store.schemaVersion()).toEqual({ current: SCHEMA_VERSION, expected: SCHEMA_VERSION });
    } finally {
      await store.close();
    }
  });

  it('brings a version-6 file up to date: audit events written before read with no actor, profiles and portals work', async () => {
    const older = path.join(dir, 'version-6.sqlite');
    await openSqliteStore(older).close();
    const db = new Database(older);
    db.exec(`
      DROP TABLE password_profiles;
      DROP TABLE account_portals;
      DROP INDEX flows_account;
      DROP INDEX session_proofs_account;
      DROP INDEX audit_events_actor;
      ALTER TABLE audit_events DROP COLUMN actor;
      ALTER TABLE audit_events DROP COLUMN user_agent;
      DROP INDEX oidc_models_account;
      ALTER TABLE oidc_models DROP COLUMN account_id;
      INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, phone_verified, locale, status, settings, created_at, updated_at)
        VALUES ('old', 'old', 'old', 'old@example.nl', 'old@example.nl', 0, 0, 'nl', 'active', '{}', 1, 1);
      INSERT INTO audit_events (id, at, type, account_id, client_id, ip, detail) VALUES ('ev', 1, 'login.password.ok', 'old', NULL, NULL, '{}');
    `);
    db.pragma('user_version = 6');
    db.close();

    const store = openSqliteStore(older);
    try {
      expect(await store.audit.list({ accountId: 'old' })).toEqual([
        { id: 'ev', at: 1, type: 'login.password.ok', accountId: 'old', clientId: null, ip: null, actor: null, userAgent: null, detail: {} },
      ]);
      await store.accountPortals.record('old', 'zinn', 5);
      expect(await store.accountPortals.listByAccount('old')).toEqual([{ accountId: 'old', clientId: 'zinn', firstLoginAt: 5, lastLoginAt: 5 }]);
      expect(await store.passwordProfiles.list()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('shares one file between two open stores, as two processes would', async () => {
    const shared = path.join(dir, 'shared.sqlite');
    const first = openSqliteStore(shared);
    const second = openSqliteStore(shared);
    try {
      await first.throttles.hit('shared', 60_000, 1_000);
      expect((await second.throttles.hit('shared', 60_000, 2_000)).count).toBe(2);
      expect((await first.throttles.get('shared', 3_000))?.count).toBe(2);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('is what openStore opens for a sqlite configuration', async () => {
    const store = await openStore({ kind: 'sqlite', file: path.join(dir, 'via-open.sqlite') });
    try {
      expect(store.kind).toBe('sqlite');
      await store.settings.put('probe', { ok: true });
      expect(await store.settings.get('probe')).toEqual({ ok: true });
    } finally {
      await store.close();
    }
  });
});

describe('sqlite durability and group commit', () => {
  const account = (id: string): AccountRecord => ({
    id, username: `user-${id}`, email: `${id}@example.nl`, emailVerified: false, phoneEncrypted: null, phoneHint: null,
    phoneVerified: false, givenName: null, familyName: null, locale: 'nl', status: 'active', settings: {}, requiredActions: [], createdAt: 1, updatedAt: 1,
  });

  it('is durable (FULL) unless told otherwise', async () => {
    const store = openSqliteStore(path.join(dir, 'durable.sqlite'));
    const relaxed = openSqliteStore(path.join(dir, 'relaxed.sqlite'), { synchronous: 'NORMAL' });
    const extra = openSqliteStore(path.join(dir, 'extra.sqlite'), { synchronous: 'EXTRA' });
    try {
      expect(store.durability()).toBe('FULL');
      expect(relaxed.durability()).toBe('NORMAL');
      expect(extra.durability()).toBe('EXTRA');
    } finally {
      await store.close();
      await relaxed.close();
      await extra.close();
    }
  });

  it('writes that arrive together share one commit, and each is visible to another connection once acknowledged', async () => {
    const file = path.join(dir, 'batched.sqlite');
    const store = openSqliteStore(file);
    const reader = new Database(file, { readonly: true });
    try {
      const before = store.writes.commits;
      const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => store.throttles.hit(`batch:${i % 4}`, 60_000, 1_000)));
      expect(hits.map((h) => h.count).sort((a, b) => a - b).at(-1)).toBe(10);
      expect(store.writes.commits - before).toBe(1);
      const row = reader.prepare<[], { total: number }>("SELECT sum(count) AS total FROM throttles WHERE key LIKE 'batch:%'").get();
      expect(row?.total).toBe(40);
    } finally {
      reader.close();
      await store.close();
    }
  });

  it('a failing write in a batch fails alone', async () => {
    const store = openSqliteStore(path.join(dir, 'isolated.sqlite'));
    try {
      await store.accounts.create(account('taken'));
      const results = await Promise.allSettled([
        store.accounts.create(account('first')),
        store.accounts.create(account('taken')),
        store.accounts.create(account('second')),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateError);
      expect(await store.accounts.findById('first')).toBeDefined();
      expect(await store.accounts.findById('second')).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('when SQLite rolls a whole batch back (disk full, I/O error), only the failing write fails; the others go again', async () => {
    const file = path.join(dir, 'rolled-back.sqlite');
    const store = openSqliteStore(file);
    // A trigger that aborts the whole transaction, as SQLITE_FULL can: the writes before it in the
    // same batch are undone too and must not be reported as saved.
    const admin = new Database(file);
    admin.exec(`CREATE TRIGGER fail_whole_batch BEFORE INSERT ON accounts WHEN NEW.id = 'doomed'
      BEGIN SELECT RAISE(ROLLBACK, 'simulated disk full'); END`);
    admin.close();
    try {
      const results = await Promise.allSettled([
        store.accounts.create(account('before')),
        store.accounts.create(account('doomed')),
        store.accounts.create(account('after')),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const reader = new Database(file, { readonly: true });
      const ids = reader.prepare<[], { id: string }>('SELECT id FROM accounts ORDER BY id').all().map((r) => r.id);
      reader.close();
      expect(ids).toEqual(['after', 'before']);
    } finally {
      await store.close();
    }
  });

  it('a rotation whose new token cannot be stored leaves the old token unconsumed', async () => {
    const file = path.join(dir, 'rotation.sqlite');
    const store = openSqliteStore(file);
    const admin = new Database(file);
    admin.exec(`CREATE TRIGGER refuse_new_token BEFORE INSERT ON oidc_models WHEN NEW.id = 'rt-new'
      BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END`);
    admin.close();
    try {
      await store.oidc.upsert('RefreshToken', 'rt-old', { grantId: 'g' }, 2_000_000);
      await expect(store.oidc.rotate('RefreshToken', 'rt-old', 'rt-new', { grantId: 'g' }, 2_000_000, 1_000)).rejects.toThrow(/simulated disk full/);
      expect((await store.oidc.find('RefreshToken', 'rt-old', 1_000))?.consumedAt).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('gives the space of expired rows back to the file system', async () => {
    const file = path.join(dir, 'reclaimed.sqlite');
    const store = openSqliteStore(file);
    const pages = () => {
      const db = new Database(file, { readonly: true });
      try {
        return { total: Number(db.pragma('page_count', { simple: true })), free: Number(db.pragma('freelist_count', { simple: true })) };
      } finally {
        db.close();
      }
    };
    try {
      const state = { padding: 'x'.repeat(2000) };
      await Promise.all(Array.from({ length: 1500 }, (_, i) => store.flows.put({
        id: `flow-${i}`, kind: 'login', interactionUid: null, accountId: null, clientId: null, state, csrf: 'c', createdAt: 0, expiresAt: 1000,
      })));
      const full = pages().total;
      expect(await store.removeExpired(2000)).toBe(1500);
      const after = pages();
      expect(after.free).toBeLessThan(50);
      expect(after.total).toBeLessThan(full / 4);
    } finally {
      await store.close();
    }
  });

  it('compact() turns on incremental auto-vacuum in a file created without it', async () => {
    const file = path.join(dir, 'legacy-vacuum.sqlite');
    const legacy = new Database(file);
    legacy.exec('CREATE TABLE early (x)');
    legacy.close();
    const store = openSqliteStore(file);
    const mode = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.pragma('auto_vacuum', { simple: true });
      } finally {
        db.close();
      }
    };
    try {
      expect(mode()).toBe(0);
      await store.compact();
      expect(mode()).toBe(2);
    } finally {
      await store.close();
    }
  });
});
