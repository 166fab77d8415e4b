// Export and import for the SQLite store (port.ts TransferStore). Pages are read in key order
// with keyset pagination (no cursor held open between pages); an import of one record type is one
// transaction on this connection, with the group-commit queue held meanwhile, so a failing import
// leaves nothing of that type behind.
import type Database from 'better-sqlite3';
import type { TransferImport, TransferRecords, TransferStore, TransferType } from '../port.ts';
import { addRecords, transferKey, type TransferTarget } from '../transfer.ts';
import type { Synchronous } from './queued.ts';
import type { WriteQueue } from './write-queue.ts';
import { COLUMNS as ACCOUNT_COLUMNS, toRecord as accountRecord } from './accounts.ts';
import { COLUMNS as CREDENTIAL_COLUMNS, toRecord as credentialRecord } from './credentials.ts';
import { COLUMNS as CLIENT_COLUMNS, toRecord as clientRecord } from './clients.ts';
import { COLUMNS as DEVICE_COLUMNS, toRecord as deviceRecord } from './devices.ts';
import { COLUMNS as LOCKOUT_COLUMNS, toRecord as lockoutRecord } from './lockouts.ts';
import { COLUMNS as FLOW_COLUMNS, toRecord as flowRecord } from './flows.ts';
import { COLUMNS as CODE_COLUMNS, toRecord as codeRecord } from './codes.ts';
import { COLUMNS as THROTTLE_COLUMNS, toRecord as throttleRecord } from './throttles.ts';
import { toRecord as sessionProofRecord } from './session-proofs.ts';
import { COLUMNS as PROFILE_COLUMNS, toRecord as profileRecord } from './password-profiles.ts';
import { toRecord as organisationRecord } from './organisations.ts';
import { COLUMNS as GRANT_COLUMNS, toRecord as grantRecord } from './admin-grants.ts';
import { toRecord as accountPortalRecord } from './account-portals.ts';
import type { MemberKind } from '../port.ts';
import { parseJsonObject } from '../json.ts';

type SyncStores = { [K in keyof Omit<TransferTarget, 'insertThrottle'>]: Synchronous<TransferTarget[K]> };

/** Same methods, answering with promises, written straight to the connection (not queued). */
function direct<T extends object>(store: Synchronous<T>): T {
  const methods: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, member] of Object.entries(store)) {
    if (typeof member === 'function') methods[name] = async (...args: unknown[]) => (member as (...a: unknown[]) => unknown)(...args);
  }
  return methods as T;
}

interface Table {
  /** Rows after the given key (or all, with null), in key order. */
  page: Database.Statement<{ after: string | null; limit: number }, unknown>;
  exists: Database.Statement<[string], unknown>;
  toRecord: (row: never) => unknown;
}

function keyed(db: Database.Database, table: string, key: string, columns: string, toRecord: (row: never) => unknown): Table {
  return {
    page: db.prepare(`SELECT ${columns} FROM ${table} WHERE @after IS NULL OR ${key} > @after ORDER BY ${key} LIMIT @limit`),
    exists: db.prepare(`SELECT 1 FROM ${table} WHERE ${key} = ?`),
    toRecord,
  };
}

export function createTransferStore(db: Database.Database, stores: SyncStores, writes: WriteQueue): TransferStore {
  const tables: Partial<Record<TransferType, Table>> = {
    account: keyed(db, 'accounts', 'id', ACCOUNT_COLUMNS, accountRecord),
    credential: keyed(db, 'credentials', 'id', CREDENTIAL_COLUMNS, credentialRecord),
    client: keyed(db, 'clients', 'client_id', CLIENT_COLUMNS, clientRecord),
    setting: keyed(db, 'settings', 'name', 'name, value', (row: { name: string; value: string }) => ({ name: row.name, value: JSON.parse(row.value) as unknown })),
    'password-profile': keyed(db, 'password_profiles', 'name', PROFILE_COLUMNS, profileRecord),
    organisation: keyed(db, 'organisations', 'id', 'id, name, created_at, updated_at', organisationRecord),
    // Composite keys as text, the same text as transferKey and MongoDB's _id (store/transfer.ts).
    membership: keyed(db, 'organisation_members', "kind || ':' || member_id || ':' || organisation_id", 'organisation_id, kind, member_id',
      (row: { organisation_id: string; kind: MemberKind; member_id: string }) => ({ organisationId: row.organisation_id, kind: row.kind, memberId: row.member_id })),
    'admin-grant': keyed(db, 'admin_grants', 'account_id', GRANT_COLUMNS, grantRecord),
    'account-portal': keyed(db, 'account_portals', "account_id || ':' || client_id", 'account_id, client_id, first_login_at, last_login_at', accountPortalRecord),
    device: keyed(db, 'devices', 'id', DEVICE_COLUMNS, deviceRecord),
    lockout: keyed(db, 'lockouts', 'key', LOCKOUT_COLUMNS, lockoutRecord),
    'session-proof': keyed(db, 'session_proofs', 'session_uid', 'session_uid, account_id, proofs, login_started_at, login_completed_at, expires_at', sessionProofRecord),
    flow: keyed(db, 'flows', 'id', FLOW_COLUMNS, flowRecord),
    code: keyed(db, 'one_time_codes', 'id', CODE_COLUMNS, codeRecord),
    throttle: keyed(db, 'throttles', 'key', THROTTLE_COLUMNS, throttleRecord),
  };
  const oidcPage = db.prepare<{ model: string | null; id: string; limit: number }, { model: string; id: string; payload: string; expires_at: number | null; consumed_at: number | null }>(
    'SELECT model, id, payload, expires_at, consumed_at FROM oidc_models WHERE @model IS NULL OR (model, id) > (@model, @id) ORDER BY model, id LIMIT @limit');
  const oidcExists = db.prepare<[string, string]>('SELECT 1 FROM oidc_models WHERE model = ? AND id = ?');
  const auditExists = db.prepare<[string]>('SELECT 1 FROM audit_events WHERE id = ?');
  const insertThrottle = db.prepare<[string, number, number, number, number]>(
    'INSERT INTO throttles (key, count, window_started_at, window_ends_at, last_hit_at) VALUES (?, ?, ?, ?, ?)');

  const target: TransferTarget = {
    accounts: direct(stores.accounts),
    credentials: direct(stores.credentials),
    clients: direct(stores.clients),
    settings: direct(stores.settings),
    devices: direct(stores.devices),
    lockouts: direct(stores.lockouts),
    audit: direct(stores.audit),
    oidc: direct(stores.oidc),
    sessionProofs: direct(stores.sessionProofs),
    flows: direct(stores.flows),
    codes: direct(stores.codes),
    passwordProfiles: direct(stores.passwordProfiles),
    organisations: direct(stores.organisations),
    adminGrants: direct(stores.adminGrants),
    accountPortals: direct(stores.accountPortals),
    async insertThrottle(t) {
      insertThrottle.run(t.key, t.count, t.windowStartedAt, t.windowEndsAt, t.lastHitAt);
    },
  };

  function exists(type: TransferType, key: string): boolean {
    if (type === 'audit') return auditExists.get(key) !== undefined;
    if (type === 'oidc') {
      // Model names contain no colon; the id may.
      const colon = key.indexOf(':');
      return oidcExists.get(key.slice(0, colon), key.slice(colon + 1)) !== undefined;
    }
    return tables[type]!.exists.get(key) !== undefined;
  }

  return {
    async page<K extends TransferType>(type: K, after: TransferRecords[K] | undefined, limit: number): Promise<TransferRecords[K][]> {
      if (type === 'audit') {
        const last = after as TransferRecords['audit'] | undefined;
        return stores.audit.listOldestFirst({ after: last && { at: last.at, id: last.id }, limit }) as TransferRecords[K][];
      }
      if (type === 'oidc') {
        const last = after as TransferRecords['oidc'] | undefined;
        return oidcPage.all({ model: last?.model ?? null, id: last?.id ?? '', limit }).map((row) => ({
          model: row.model, id: row.id, payload: parseJsonObject(row.payload), expiresAt: row.expires_at, consumedAt: row.consumed_at,
        })) as TransferRecords[K][];
      }
      const table = tables[type]!;
      const key = after === undefined ? null : transferKey(type, after);
      return table.page.all({ after: key, limit }).map((row) => table.toRecord(row as never)) as TransferRecords[K][];
    },
    async begin<K extends TransferType>(type: K): Promise<TransferImport<K>> {
      const hold = await writes.hold();
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (error) {
        hold.release();
        throw error;
      }
      let open = true;
      const finish = (sql: 'COMMIT' | 'ROLLBACK') => {
        if (!open) return;
        open = false;
        try {
          if (db.inTransaction) db.exec(sql);
        } finally {
          hold.release();
        }
      };
      return {
        add: (records) => addRecords(target, type, records, async (keys) => new Set(keys.filter((key) => exists(type, key)))),
        async commit() {
          finish('COMMIT');
          await hold.sync();
        },
        async abort() {
          finish('ROLLBACK');
        },
      };
    },
  };
}
