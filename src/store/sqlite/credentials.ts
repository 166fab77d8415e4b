import type Database from 'better-sqlite3';
import type { CredentialRecord, CredentialStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { canonicalJson, parseJsonObject } from '../json.ts';

interface Row {
  id: string;
  account_id: string;
  type: string;
  data: string;
  created_at: number;
  last_used_at: number | null;
}

export function toRecord(row: Row): CredentialRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    type: row.type,
    data: parseJsonObject(row.data),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export const COLUMNS = 'id, account_id, type, data, created_at, last_used_at';

export function createCredentialStore(db: Database.Database): Synchronous<CredentialStore> {
  // `data` is kept as canonical JSON (sorted keys) so compareAndSwap can compare text exactly:
  // data read back and handed in as expectedData always serialises to the stored string.
  const put = db.prepare<Row>(`
    INSERT INTO credentials (${COLUMNS}) VALUES (@id, @account_id, @type, @data, @created_at, @last_used_at)
    ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, type = excluded.type,
      data = excluded.data, created_at = excluded.created_at, last_used_at = excluded.last_used_at`);
  const listByAccount = db.prepare<[string], Row>(
    `SELECT ${COLUMNS} FROM credentials WHERE account_id = ? ORDER BY created_at, id`);
  const listByAccountAndType = db.prepare<[string, string], Row>(
    `SELECT ${COLUMNS} FROM credentials WHERE account_id = ? AND type = ? ORDER BY created_at, id`);
  const findById = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM credentials WHERE id = ?`);
  const remove = db.prepare<[string]>('DELETE FROM credentials WHERE id = ?');
  const removeByAccount = db.prepare<[string]>('DELETE FROM credentials WHERE account_id = ?');
  const removeByAccountAndType = db.prepare<[string, string]>(
    'DELETE FROM credentials WHERE account_id = ? AND type = ?');
  const compareAndSwap = db.prepare<{ id: string; expected: string; next: string; now: number }>(
    'UPDATE credentials SET data = @next, last_used_at = @now WHERE id = @id AND data = @expected');

  return {
    put(credential) {
      put.run({
        id: credential.id,
        account_id: credential.accountId,
        type: credential.type,
        data: canonicalJson(credential.data),
        created_at: credential.createdAt,
        last_used_at: credential.lastUsedAt,
      });
    },
    listByAccount(accountId, type) {
      const rows = type === undefined ? listByAccount.all(accountId) : listByAccountAndType.all(accountId, type);
      return rows.map(toRecord);
    },
    findById(id) {
      const row = findById.get(id);
      return row && toRecord(row);
    },
    remove(id) {
      remove.run(id);
    },
    removeByAccount(accountId, type) {
      if (type === undefined) removeByAccount.run(accountId);
      else removeByAccountAndType.run(accountId, type);
    },
    compareAndSwap(id, expectedData, nextData, now) {
      const expected = canonicalJson(expectedData);
      return compareAndSwap.run({ id, expected, next: canonicalJson(nextData), now }).changes === 1;
    },
  };
}
