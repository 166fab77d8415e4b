import type Database from 'better-sqlite3';
import type { ClientRecord, ClientStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonObject } from '../json.ts';

interface Row {
  client_id: string;
  metadata: string;
  created_at: number;
  updated_at: number;
}

export function toRecord(row: Row): ClientRecord {
  return {
    clientId: row.client_id,
    metadata: parseJsonObject(row.metadata),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toRow(client: ClientRecord): Row {
  return {
    client_id: client.clientId,
    metadata: JSON.stringify(client.metadata),
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  };
}

export const COLUMNS = 'client_id, metadata, created_at, updated_at';

export function createClientStore(db: Database.Database): Synchronous<ClientStore> {
  const put = db.prepare<Row>(`
    INSERT INTO clients (${COLUMNS}) VALUES (@client_id, @metadata, @created_at, @updated_at)
    ON CONFLICT (client_id) DO UPDATE SET metadata = excluded.metadata,
      created_at = excluded.created_at, updated_at = excluded.updated_at`);
  const insert = db.prepare<Row>(`
    INSERT INTO clients (${COLUMNS}) VALUES (@client_id, @metadata, @created_at, @updated_at)
    ON CONFLICT (client_id) DO NOTHING`);
  const find = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM clients WHERE client_id = ?`);
  const list = db.prepare<[], Row>(`SELECT ${COLUMNS} FROM clients ORDER BY created_at, client_id`);
  const remove = db.prepare<[string]>('DELETE FROM clients WHERE client_id = ?');

  return {
    put(client) {
      put.run(toRow(client));
    },
    putIfAbsent(client) {
      return insert.run(toRow(client)).changes === 1;
    },
    find(clientId) {
      const row = find.get(clientId);
      return row && toRecord(row);
    },
    list() {
      return list.all().map(toRecord);
    },
    remove(clientId) {
      return remove.run(clientId).changes > 0;
    },
  };
}
