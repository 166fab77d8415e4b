import type Database from 'better-sqlite3';
import type { AdminGrantRecord, AdminGrantStore, AdminRole } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonStringArray } from '../json.ts';

interface Row {
  account_id: string;
  role: string;
  organisations: string;
  granted_at: number;
  granted_by: string;
}

const ROLES: readonly AdminRole[] = ['operator', 'practice', 'auditor'];

function toRole(value: string): AdminRole {
  const role = ROLES.find((r) => r === value);
  if (!role) throw new TypeError(`unknown admin role ${value}`);
  return role;
}

export const toRecord = (row: Row): AdminGrantRecord => ({
  accountId: row.account_id,
  role: toRole(row.role),
  organisations: parseJsonStringArray(row.organisations),
  grantedAt: row.granted_at,
  grantedBy: row.granted_by,
});

export const COLUMNS = 'account_id, role, organisations, granted_at, granted_by';

export function createAdminGrantStore(db: Database.Database): Synchronous<AdminGrantStore> {
  const put = db.prepare<Row>(`
    INSERT INTO admin_grants (${COLUMNS}) VALUES (@account_id, @role, @organisations, @granted_at, @granted_by)
    ON CONFLICT (account_id) DO UPDATE SET role = excluded.role, organisations = excluded.organisations,
      granted_at = excluded.granted_at, granted_by = excluded.granted_by`);
  const find = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM admin_grants WHERE account_id = ?`);
  const list = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM admin_grants ORDER BY granted_at, account_id`);
  const remove = db.prepare<[string]>('DELETE FROM admin_grants WHERE account_id = ?');
  return {
    put(grant) {
      put.run({ account_id: grant.accountId, role: grant.role, organisations: JSON.stringify(grant.organisations), granted_at: grant.grantedAt, granted_by: grant.grantedBy });
    },
    find(accountId) {
      const row = find.get(accountId);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    remove(accountId) {
      return remove.run(accountId).changes > 0;
    },
  };
}
