import type Database from 'better-sqlite3';
import type { FlowRecord, FlowStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonObject } from '../json.ts';

interface Row {
  id: string;
  kind: string;
  interaction_uid: string | null;
  account_id: string | null;
  client_id: string | null;
  state: string;
  csrf: string;
  created_at: number;
  expires_at: number;
}

export function toRecord(row: Row): FlowRecord {
  return {
    id: row.id,
    kind: row.kind,
    interactionUid: row.interaction_uid,
    accountId: row.account_id,
    clientId: row.client_id,
    state: parseJsonObject(row.state),
    csrf: row.csrf,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

export const COLUMNS = 'id, kind, interaction_uid, account_id, client_id, state, csrf, created_at, expires_at';

export function createFlowStore(db: Database.Database): Synchronous<FlowStore> {
  const put = db.prepare<Row>(`
    INSERT INTO flows (${COLUMNS})
    VALUES (@id, @kind, @interaction_uid, @account_id, @client_id, @state, @csrf, @created_at, @expires_at)
    ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, interaction_uid = excluded.interaction_uid,
      account_id = excluded.account_id, client_id = excluded.client_id, state = excluded.state,
      csrf = excluded.csrf, created_at = excluded.created_at, expires_at = excluded.expires_at`);
  const find = db.prepare<[string, number], Row>(`SELECT ${COLUMNS} FROM flows WHERE id = ? AND expires_at > ?`);
  // Should an interaction ever have started two flows, the newest is the one the browser is in.
  const findByInteraction = db.prepare<[string, number], Row>(`
    SELECT ${COLUMNS} FROM flows WHERE interaction_uid = ? AND expires_at > ?
    ORDER BY created_at DESC, rowid DESC LIMIT 1`);
  const remove = db.prepare<[string]>('DELETE FROM flows WHERE id = ?');
  const removeByAccount = db.prepare<[string, string]>('DELETE FROM flows WHERE account_id = ? AND id <> ?');

  return {
    put(flow) {
      put.run({
        id: flow.id,
        kind: flow.kind,
        interaction_uid: flow.interactionUid,
        account_id: flow.accountId,
        client_id: flow.clientId,
        state: JSON.stringify(flow.state),
        csrf: flow.csrf,
        created_at: flow.createdAt,
        expires_at: flow.expiresAt,
      });
    },
    find(id, now) {
      const row = find.get(id, now);
      return row && toRecord(row);
    },
    findByInteraction(interactionUid, now) {
      const row = findByInteraction.get(interactionUid, now);
      return row && toRecord(row);
    },
    remove(id) {
      remove.run(id);
    },
    removeByAccount(accountId, exceptId) {
      // Flow ids are never empty: '' excepts nothing.
      removeByAccount.run(accountId, exceptId ?? '');
    },
  };
}
