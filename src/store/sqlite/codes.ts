import type Database from 'better-sqlite3';
import type { OneTimeCodeRecord, OneTimeCodeStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

interface Row {
  id: string;
  account_id: string;
  purpose: string;
  flow_id: string | null;
  code_hash: string;
  attempts: number;
  sent_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export function toRecord(row: Row): OneTimeCodeRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    purpose: row.purpose,
    flowId: row.flow_id,
    codeHash: row.code_hash,
    attempts: row.attempts,
    sentAt: row.sent_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}

export const COLUMNS = 'id, account_id, purpose, flow_id, code_hash, attempts, sent_at, expires_at, consumed_at';

export function createOneTimeCodeStore(db: Database.Database): Synchronous<OneTimeCodeStore> {
  const removeOthers = db.prepare<[string, string, string]>(
    'DELETE FROM one_time_codes WHERE account_id = ? AND purpose = ? AND id <> ?');
  const put = db.prepare<Row>(`
    INSERT INTO one_time_codes (${COLUMNS})
    VALUES (@id, @account_id, @purpose, @flow_id, @code_hash, @attempts, @sent_at, @expires_at, @consumed_at)
    ON CONFLICT (id) DO UPDATE SET account_id = excluded.account_id, purpose = excluded.purpose, flow_id = excluded.flow_id,
      code_hash = excluded.code_hash, attempts = excluded.attempts, sent_at = excluded.sent_at,
      expires_at = excluded.expires_at, consumed_at = excluded.consumed_at`);
  // Replacing is one transaction: no reader ever sees the old and the new code both valid.
  const replace = db.transaction((row: Row) => {
    removeOthers.run(row.account_id, row.purpose, row.id);
    put.run(row);
  });
  const findActive = db.prepare<[string, string, number], Row>(`
    SELECT ${COLUMNS} FROM one_time_codes
    WHERE account_id = ? AND purpose = ? AND consumed_at IS NULL AND expires_at > ?
    ORDER BY sent_at DESC, rowid DESC LIMIT 1`);
  const recordAttempt = db.prepare<[string], { attempts: number }>(
    'UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ? RETURNING attempts');
  const consume = db.prepare<[number, string]>(
    'UPDATE one_time_codes SET consumed_at = ? WHERE id = ? AND consumed_at IS NULL');
  const removeByAccount = db.prepare<[string]>('DELETE FROM one_time_codes WHERE account_id = ?');
  const removeByAccountAndPurpose = db.prepare<[string, string]>(
    'DELETE FROM one_time_codes WHERE account_id = ? AND purpose = ?');

  return {
    replace(code) {
      replace.immediate({
        id: code.id,
        account_id: code.accountId,
        purpose: code.purpose,
        flow_id: code.flowId,
        code_hash: code.codeHash,
        attempts: code.attempts,
        sent_at: code.sentAt,
        expires_at: code.expiresAt,
        consumed_at: code.consumedAt,
      });
    },
    findActive(accountId, purpose, now) {
      const row = findActive.get(accountId, purpose, now);
      return row && toRecord(row);
    },
    recordAttempt(id) {
      // 0 for a code that no longer exists (replaced or removed meanwhile); it cannot be consumed
      // either, so the caller's verification fails on its own.
      return recordAttempt.get(id)?.attempts ?? 0;
    },
    consume(id, now) {
      return consume.run(now, id).changes === 1;
    },
    removeByAccount(accountId, purpose) {
      if (purpose === undefined) removeByAccount.run(accountId);
      else removeByAccountAndPurpose.run(accountId, purpose);
    },
  };
}
