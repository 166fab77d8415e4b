import type Database from 'better-sqlite3';
import type { OidcModelStore, OidcRecord, OidcWrite } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonObject } from '../json.ts';

interface Row {
  payload: string;
  expires_at: number | null;
  consumed_at: number | null;
}

function stringMember(payload: Record<string, unknown>, key: string): string | null {
  const value = payload[key];
  return typeof value === 'string' ? value : null;
}

function toRecord(row: Row | undefined): OidcRecord | undefined {
  if (!row) return undefined;
  return { payload: parseJsonObject(row.payload), expiresAt: row.expires_at, consumedAt: row.consumed_at };
}

const COLUMNS = 'payload, expires_at, consumed_at';
const LIVE = '(expires_at IS NULL OR expires_at > @now)';

type Transform = Parameters<OidcModelStore['rewriteAll']>[0];

export function createOidcModelStore(db: Database.Database): Synchronous<OidcModelStore> {
  // oidc-provider re-saves some models (Session, Grant) many times; consumed_at survives the
  // re-save so a consumed authorization code or refresh token can never become fresh again.
  const upsert = db.prepare<{
    model: string; id: string; payload: string; grantId: string | null; uid: string | null;
    userCode: string | null; accountId: string | null; expiresAt: number | null;
  }>(`
    INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, account_id, expires_at)
    VALUES (@model, @id, @payload, @grantId, @uid, @userCode, @accountId, @expiresAt)
    ON CONFLICT (model, id) DO UPDATE SET
      payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
      user_code = excluded.user_code, account_id = excluded.account_id, expires_at = excluded.expires_at`);
  const find = db.prepare<{ model: string; id: string; now: number }, Row>(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND id = @id AND ${LIVE}`);
  const findByUid = db.prepare<{ model: string; uid: string; now: number }, Row>(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND uid = @uid AND ${LIVE} LIMIT 1`);
  const findByUserCode = db.prepare<{ model: string; userCode: string; now: number }, Row>(
    `SELECT ${COLUMNS} FROM oidc_models WHERE model = @model AND user_code = @userCode AND ${LIVE} LIMIT 1`);
  // Compare-and-swap: only the first consumption changes the row (and the change count says so,
  // also across processes). Its time is the moment a replay is measured against.
  const consume = db.prepare<{ model: string; id: string; now: number }>(
    'UPDATE oidc_models SET consumed_at = @now WHERE model = @model AND id = @id AND consumed_at IS NULL');
  const destroy = db.prepare<[string, string]>('DELETE FROM oidc_models WHERE model = ? AND id = ?');
  const revokeByGrantId = db.prepare<[string]>('DELETE FROM oidc_models WHERE grant_id = ?');
  const revokeByAccount = db.prepare<{ accountId: string; keep: string | null }>(
    "DELETE FROM oidc_models WHERE account_id = @accountId AND NOT (model = 'Session' AND uid IS @keep)");
  const all = db.prepare<[], { model: string; id: string; payload: string }>('SELECT model, id, payload FROM oidc_models');
  const rename = db.prepare<{
    model: string; id: string; newId: string; payload: string; grantId: string | null; uid: string | null; userCode: string | null;
    accountId: string | null;
  }>(`
    UPDATE oidc_models SET id = @newId, payload = @payload, grant_id = @grantId, uid = @uid, user_code = @userCode, account_id = @accountId
    WHERE model = @model AND id = @id`);

  const indexed = (payload: Record<string, unknown>) => ({
    grantId: stringMember(payload, 'grantId'), uid: stringMember(payload, 'uid'), userCode: stringMember(payload, 'userCode'),
    accountId: stringMember(payload, 'accountId'),
  });
  const save = (model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null) =>
    upsert.run({ model, id, payload: JSON.stringify(payload), expiresAt, ...indexed(payload) });
  const consumeOnce = (model: string, id: string, now: number) => consume.run({ model, id, now }).changes === 1;

  // Inside the write queue's batch this is a savepoint: the consumption and the new token are
  // stored together or not at all.
  const rotate = db.transaction(
    (model: string, consumedId: string, id: string, payload: Record<string, unknown>, expiresAt: number | null, now: number, alongside: readonly OidcWrite[]) => {
      if (!consumeOnce(model, consumedId, now)) return false;
      save(model, id, payload, expiresAt);
      for (const record of alongside) save(record.model, record.id, record.payload, record.expiresAt);
      return true;
    },
  );
  const rewriteAll = db.transaction((transform: Transform) => {
    let changed = 0;
    for (const row of all.all()) {
      const next = transform(row.model, row.id, parseJsonObject(row.payload));
      if (!next) continue;
      rename.run({ model: row.model, id: row.id, newId: next.id, payload: JSON.stringify(next.payload), ...indexed(next.payload) });
      changed += 1;
    }
    return changed;
  });

  return {
    upsert(model, id, payload, expiresAt) {
      save(model, id, payload, expiresAt);
    },
    find(model, id, now) {
      return toRecord(find.get({ model, id, now }));
    },
    findByUid(model, uid, now) {
      return toRecord(findByUid.get({ model, uid, now }));
    },
    findByUserCode(model, userCode, now) {
      return toRecord(findByUserCode.get({ model, userCode, now }));
    },
    consume(model, id, now) {
      return consumeOnce(model, id, now);
    },
    rotate(model, consumedId, id, payload, expiresAt, now, alongside = []) {
      return rotate(model, consumedId, id, payload, expiresAt, now, alongside);
    },
    destroy(model, id) {
      destroy.run(model, id);
    },
    revokeByGrantId(grantId) {
      revokeByGrantId.run(grantId);
    },
    revokeByAccount(accountId, options = {}) {
      return revokeByAccount.run({ accountId, keep: options.exceptSessionUid ?? null }).changes;
    },
    rewriteAll(transform) {
      return rewriteAll(transform);
    },
  };
}
