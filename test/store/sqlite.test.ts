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

const dir = mkdtempSync(path.join(tmpdir(), 'poortwachter-store-'));
// A directory that does not exist yet: opening the store must create it.
const file = path.join(dir, 'data', 'poortwachter.sqlite');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

runStoreContract('sqlite', async () => openSqliteStore(file));
runLifecycleStoreContract('sqlite', async () => openSqliteStore(file));

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

  it('brings a version-1 file up to date: codes written before stay readable (no flow), session proofs work', async () => {
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
      ALTER TABLE audit_events DROP COLUMN actor;
      ALTER TABLE audit_events DROP COLUMN user_agent;
      INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, phone_verified, locale, status, settings, created_at, updated_at)
        VALUES ('old', 'old', 'old', 'old@example.nl', 'old@example.nl', 0, 0, 'nl', 'active', '{}', 1, 1);
      INSERT INTO one_time_codes (id, account_id, purpose, code_hash, attempts, sent_at, expires_at, consumed_at)
        VALUES ('code', 'old', 'login:sms', 'hash', 0, 1000, 9000, NULL);
    `);
    db.pragma('user_version = 1');
    db.close();

    const store = openSqliteStore(older);
    try {
      expect((await store.codes.findActive('old', 'login:sms', 2000))?.flowId).toBeNull();
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
      ALTER TABLE audit_events DROP COLUMN actor;
      ALTER TABLE audit_events DROP COLUMN user_agent;
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

  it('brings a version-4 file up to date: audit events written before read with no actor, profiles and portals work', async () => {
    const older = path.join(dir, 'version-4.sqlite');
    await openSqliteStore(older).close();
    const db = new Database(older);
    db.exec(`
      DROP TABLE password_profiles;
      DROP TABLE account_portals;
      DROP INDEX flows_account;
      DROP INDEX session_proofs_account;
      ALTER TABLE audit_events DROP COLUMN actor;
      ALTER TABLE audit_events DROP COLUMN user_agent;
      INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, phone_verified, locale, status, settings, created_at, updated_at)
        VALUES ('old', 'old', 'old', 'old@example.nl', 'old@example.nl', 0, 0, 'nl', 'active', '{}', 1, 1);
      INSERT INTO audit_events (id, at, type, account_id, client_id, ip, detail) VALUES ('ev', 1, 'login.password.ok', 'old', NULL, NULL, '{}');
    `);
    db.pragma('user_version = 4');
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
