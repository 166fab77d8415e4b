import type Database from 'better-sqlite3';
import type { AuditEvent, AuditStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonObject } from '../json.ts';

interface Row {
  id: string;
  at: number;
  type: string;
  account_id: string | null;
  client_id: string | null;
  ip: string | null;
  actor: string | null;
  user_agent: string | null;
  detail: string;
}

export function toEvent(row: Row): AuditEvent {
  return {
    id: row.id,
    at: row.at,
    type: row.type,
    accountId: row.account_id,
    clientId: row.client_id,
    ip: row.ip,
    actor: row.actor,
    userAgent: row.user_agent,
    detail: parseJsonObject(row.detail),
  };
}

export const COLUMNS = 'id, at, type, account_id, client_id, ip, actor, user_agent, detail';
const DEFAULT_LIMIT = 100;

interface SearchParams {
  accountId: string | null;
  actor: string | null;
  type: string | null;
  clientId: string | null;
  from: number | null;
  until: number | null;
  beforeAt: number | null;
  beforeId: string | null;
  limit: number;
}

export function createAuditStore(db: Database.Database): Synchronous<AuditStore> {
  const append = db.prepare<Row>(
    `INSERT INTO audit_events (${COLUMNS}) VALUES (@id, @at, @type, @account_id, @client_id, @ip, @actor, @user_agent, @detail)`);
  const pseudonymise = db.prepare<[string, string]>('UPDATE audit_events SET account_id = ? WHERE account_id = ?');
  // One statement per filter combination, so each can use its own index.
  const newestFirst = 'ORDER BY at DESC, seq DESC LIMIT @limit';
  const listAll = db.prepare<{ limit: number }, Row>(`SELECT ${COLUMNS} FROM audit_events ${newestFirst}`);
  const listByAccount = db.prepare<{ accountId: string; limit: number }, Row>(
    `SELECT ${COLUMNS} FROM audit_events WHERE account_id = @accountId ${newestFirst}`);
  const listByType = db.prepare<{ type: string; limit: number }, Row>(
    `SELECT ${COLUMNS} FROM audit_events WHERE type = @type ${newestFirst}`);
  const listByAccountAndType = db.prepare<{ accountId: string; type: string; limit: number }, Row>(
    `SELECT ${COLUMNS} FROM audit_events WHERE account_id = @accountId AND type = @type ${newestFirst}`);

  const oldestFirst = db.prepare<{ until: number; afterAt: number; afterId: string; limit: number }, Row>(`
    SELECT ${COLUMNS} FROM audit_events
    WHERE at < @until AND (at > @afterAt OR (at = @afterAt AND id > @afterId))
    ORDER BY at, id LIMIT @limit`);
  // The retention job's delete, the one way an event leaves the trail (docs/architecture.md, "Audit log").
  const removeBefore = db.prepare<[number]>('DELETE FROM audit_events WHERE at < ?');
  const searches = new Map<string, Database.Statement<SearchParams, Row>>();
  const FILTERS = [
    ['accountId', 'account_id = @accountId'],
    ['actor', 'actor = @actor'],
    ['type', 'type = @type'],
    ['clientId', 'client_id = @clientId'],
    ['from', 'at >= @from'],
    ['until', 'at < @until'],
    ['before', '(at < @beforeAt OR (at = @beforeAt AND id < @beforeId))'],
  ] as const;

  return {
    append(event) {
      append.run({
        id: event.id,
        at: event.at,
        type: event.type,
        account_id: event.accountId,
        client_id: event.clientId,
        ip: event.ip,
        actor: event.actor,
        user_agent: event.userAgent,
        detail: JSON.stringify(event.detail),
      });
    },
    pseudonymise(accountId, pseudonym) {
      return pseudonymise.run(pseudonym, accountId).changes;
    },
    list(filter = {}) {
      const limit = Math.max(0, Math.floor(filter.limit ?? DEFAULT_LIMIT));
      const { accountId, type } = filter;
      let rows: Row[];
      if (accountId !== undefined && type !== undefined) rows = listByAccountAndType.all({ accountId, type, limit });
      else if (accountId !== undefined) rows = listByAccount.all({ accountId, limit });
      else if (type !== undefined) rows = listByType.all({ type, limit });
      else rows = listAll.all({ limit });
      return rows.map(toEvent);
    },
    listOldestFirst(page) {
      return oldestFirst.all({
        until: page.until ?? Number.MAX_SAFE_INTEGER,
        afterAt: page.after?.at ?? Number.MIN_SAFE_INTEGER,
        afterId: page.after?.id ?? '',
        limit: Math.max(0, Math.floor(page.limit)),
      }).map(toEvent);
    },
    search(filter) {
      const conditions = FILTERS.filter(([name]) => filter[name] !== undefined).map(([, sql]) => sql);
      const key = conditions.join(' AND ');
      let statement = searches.get(key);
      if (!statement) {
        statement = db.prepare<SearchParams, Row>(
          `SELECT ${COLUMNS} FROM audit_events ${conditions.length ? `WHERE ${key}` : ''} ORDER BY at DESC, id DESC LIMIT @limit`);
        searches.set(key, statement);
      }
      return statement.all({
        accountId: filter.accountId ?? null,
        actor: filter.actor ?? null,
        type: filter.type ?? null,
        clientId: filter.clientId ?? null,
        from: filter.from ?? null,
        until: filter.until ?? null,
        beforeAt: filter.before?.at ?? null,
        beforeId: filter.before?.id ?? null,
        limit: Math.max(0, Math.floor(filter.limit)),
      }).map(toEvent);
    },
    removeBefore(at) {
      return removeBefore.run(at).changes;
    },
  };
}
