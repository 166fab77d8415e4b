import type Database from 'better-sqlite3';
import type { DeviceRecord, DeviceStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonStringArray } from '../json.ts';

interface Row {
  id: string;
  account_id: string;
  secret_hash: string;
  factor: string;
  strength: number;
  amr: string;
  acr: string;
  label: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
}

export function toRecord(row: Row): DeviceRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    secretHash: row.secret_hash,
    factor: row.factor,
    strength: row.strength === 2 ? 2 : 1,
    amr: parseJsonStringArray(row.amr),
    acr: row.acr,
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  };
}

export const COLUMNS = 'id, account_id, secret_hash, factor, strength, amr, acr, label, created_at, expires_at, last_used_at';

export function createDeviceStore(db: Database.Database): Synchronous<DeviceStore> {
  const put = db.prepare<Row>(`
    INSERT INTO devices (${COLUMNS})
    VALUES (@id, @account_id, @secret_hash, @factor, @strength, @amr, @acr, @label, @created_at, @expires_at, @last_used_at)
    ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, secret_hash = excluded.secret_hash,
      factor = excluded.factor, strength = excluded.strength, amr = excluded.amr, acr = excluded.acr, label = excluded.label, created_at = excluded.created_at,
      expires_at = excluded.expires_at, last_used_at = excluded.last_used_at`);
  const find = db.prepare<[string, number], Row>(`SELECT ${COLUMNS} FROM devices WHERE id = ? AND expires_at > ?`);
  const listByAccount = db.prepare<[string, number], Row>(
    `SELECT ${COLUMNS} FROM devices WHERE account_id = ? AND expires_at > ? ORDER BY created_at, id`);
  const remove = db.prepare<[string]>('DELETE FROM devices WHERE id = ?');
  const removeByAccount = db.prepare<[string]>('DELETE FROM devices WHERE account_id = ?');

  return {
    put(device) {
      put.run({
        id: device.id,
        account_id: device.accountId,
        secret_hash: device.secretHash,
        factor: device.factor,
        strength: device.strength,
        amr: JSON.stringify(device.amr),
        acr: device.acr,
        label: device.label,
        created_at: device.createdAt,
        expires_at: device.expiresAt,
        last_used_at: device.lastUsedAt,
      });
    },
    find(id, now) {
      const row = find.get(id, now);
      return row && toRecord(row);
    },
    listByAccount(accountId, now) {
      return listByAccount.all(accountId, now).map(toRecord);
    },
    remove(id) {
      remove.run(id);
    },
    removeByAccount(accountId) {
      removeByAccount.run(accountId);
    },
  };
}
