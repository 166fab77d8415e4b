import type Database from 'better-sqlite3';
import type { AccountPortalRecord, AccountPortalStore } from '../port.ts';
import type { Synchronous } from './queued.ts';

interface Row {
  account_id: string;
  client_id: string;
  first_login_at: number;
  last_login_at: number;
}

export const toRecord = (row: Row): AccountPortalRecord => ({
  accountId: row.account_id,
  clientId: row.client_id,
  firstLoginAt: row.first_login_at,
  lastLoginAt: row.last_login_at,
});

export function createAccountPortalStore(db: Database.Database): Synchronous<AccountPortalStore> {
  // An account that was removed meanwhile fails the foreign key: its login no longer matters.
  const record = db.prepare<{ accountId: string; clientId: string; now: number }>(`
    INSERT INTO account_portals (account_id, client_id, first_login_at, last_login_at)
    SELECT @accountId, @clientId, @now, @now WHERE EXISTS (SELECT 1 FROM accounts WHERE id = @accountId)
    ON CONFLICT (account_id, client_id) DO UPDATE SET last_login_at = MAX(last_login_at, excluded.last_login_at)`);
  const list = db.prepare<[string], Row>(
    'SELECT account_id, client_id, first_login_at, last_login_at FROM account_portals WHERE account_id = ? ORDER BY first_login_at, client_id');
  const removeByAccount = db.prepare<[string]>('DELETE FROM account_portals WHERE account_id = ?');

  return {
    record(accountId, clientId, now) {
      record.run({ accountId, clientId, now });
    },
    listByAccount(accountId) {
      return list.all(accountId).map(toRecord);
    },
    removeByAccount(accountId) {
      removeByAccount.run(accountId);
    },
  };
}
