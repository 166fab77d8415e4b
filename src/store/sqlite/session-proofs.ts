import type Database from 'better-sqlite3';
import { provenanceFields, type ProofProvenance, type SessionProofRecord, type SessionProofStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

interface Row {
  session_uid: string;
  account_id: string;
  proofs: string;
  login_started_at: number | null;
  login_completed_at: number | null;
  expires_at: number;
}

function isProof(value: unknown): value is ProofProvenance {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.factor === 'string' && Array.isArray(p.amr) && p.amr.every((a) => typeof a === 'string')
    && typeof p.strength === 'number' && typeof p.at === 'number' && typeof p.replayed === 'boolean';
}

function parseProofs(text: string): ProofProvenance[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every(isProof)) throw new TypeError('stored session proofs are malformed');
  return value;
}

export function toRecord(row: Row): SessionProofRecord {
  const login = row.login_started_at !== null && row.login_completed_at !== null ? { startedAt: row.login_started_at, completedAt: row.login_completed_at } : null;
  return { sessionUid: row.session_uid, accountId: row.account_id, proofs: parseProofs(row.proofs).map(provenanceFields), login, expiresAt: row.expires_at };
}

export function createSessionProofStore(db: Database.Database): Synchronous<SessionProofStore> {
  const put = db.prepare<Row>(`
    INSERT INTO session_proofs (session_uid, account_id, proofs, login_started_at, login_completed_at, expires_at)
    VALUES (@session_uid, @account_id, @proofs, @login_started_at, @login_completed_at, @expires_at)
    ON CONFLICT (session_uid) DO UPDATE SET account_id = excluded.account_id, proofs = excluded.proofs,
      login_started_at = excluded.login_started_at, login_completed_at = excluded.login_completed_at, expires_at = excluded.expires_at`);
  const find = db.prepare<[string, number], Row>(
    'SELECT session_uid, account_id, proofs, login_started_at, login_completed_at, expires_at FROM session_proofs WHERE session_uid = ? AND expires_at > ?');
  const removeByAccount = db.prepare<[string]>('DELETE FROM session_proofs WHERE account_id = ?');

  return {
    put(record) {
      put.run({
        session_uid: record.sessionUid,
        account_id: record.accountId,
        // Only the known fields: a record must never carry more than the port describes.
        proofs: JSON.stringify(record.proofs.map(provenanceFields)),
        login_started_at: record.login?.startedAt ?? null,
        login_completed_at: record.login?.completedAt ?? null,
        expires_at: record.expiresAt,
      });
    },
    find(sessionUid, now) {
      const row = find.get(sessionUid, now);
      return row && toRecord(row);
    },
    removeByAccount(accountId) {
      removeByAccount.run(accountId);
    },
  };
}
