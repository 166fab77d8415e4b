import type Database from 'better-sqlite3';
import type { AccountRecord, AccountSearch, AccountStatus, AccountStore } from '../port.ts';
import type { Synchronous } from './queued.ts';
import { parseJsonObject, parseJsonStringArray } from '../json.ts';
import { asDuplicateError } from './errors.ts';

interface Row {
  id: string;
  username: string;
  email: string;
  email_verified: number;
  phone_encrypted: string | null;
  phone_hint: string | null;
  phone_verified: number;
  given_name: string | null;
  family_name: string | null;
  locale: string;
  status: string;
  settings: string;
  required_actions: string;
  created_at: number;
  updated_at: number;
}

type Params = Row & { username_key: string; email_key: string | null };

interface SearchParams {
  text: string;
  organisations: string;
  afterKey: string;
  afterId: string;
  limit: number;
}

/**
 * The key that makes usernames and e-mail addresses unique regardless of case. Computed here
 * rather than with COLLATE NOCASE because SQLite only folds ASCII, and `Jörg` must collide with
 * `JÖRG` as it does under MongoDB's strength-2 collation.
 */
export function loginKey(value: string): string {
  return value.normalize('NFC').toLowerCase();
}

const DUPLICATE_FIELDS = { id: 'id', username_key: 'username', email_key: 'email' } as const;

function toParams(a: AccountRecord): Params {
  return {
    id: a.id,
    username: a.username,
    username_key: loginKey(a.username),
    email: a.email,
    // Accounts without an e-mail address store ''; those must not collide with one another.
    email_key: a.email === '' ? null : loginKey(a.email),
    email_verified: a.emailVerified ? 1 : 0,
    phone_encrypted: a.phoneEncrypted,
    phone_hint: a.phoneHint,
    phone_verified: a.phoneVerified ? 1 : 0,
    given_name: a.givenName,
    family_name: a.familyName,
    locale: a.locale,
    status: a.status,
    settings: JSON.stringify(a.settings),
    required_actions: JSON.stringify(a.requiredActions),
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

function toStatus(value: string): AccountStatus {
  if (value !== 'active' && value !== 'disabled') throw new TypeError(`unknown account status ${value}`);
  return value;
}

export function toRecord(row: Row): AccountRecord {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    emailVerified: row.email_verified === 1,
    phoneEncrypted: row.phone_encrypted,
    phoneHint: row.phone_hint,
    phoneVerified: row.phone_verified === 1,
    givenName: row.given_name,
    familyName: row.family_name,
    locale: row.locale,
    status: toStatus(row.status),
    settings: parseJsonObject(row.settings),
    requiredActions: parseJsonStringArray(row.required_actions),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const COLUMNS = `id, username, email, email_verified, phone_encrypted, phone_hint, phone_verified,
  given_name, family_name, locale, status, settings, required_actions, created_at, updated_at`;

export function createAccountStore(db: Database.Database): Synchronous<AccountStore> {
  const insert = db.prepare<Params>(`
    INSERT INTO accounts (id, username, username_key, email, email_key, email_verified, phone_encrypted,
      phone_hint, phone_verified, given_name, family_name, locale, status, settings, required_actions, created_at, updated_at)
    VALUES (@id, @username, @username_key, @email, @email_key, @email_verified, @phone_encrypted,
      @phone_hint, @phone_verified, @given_name, @family_name, @locale, @status, @settings, @required_actions, @created_at, @updated_at)`);
  const update = db.prepare<Params>(`
    UPDATE accounts SET username = @username, username_key = @username_key, email = @email,
      email_key = @email_key, email_verified = @email_verified, phone_encrypted = @phone_encrypted,
      phone_hint = @phone_hint, phone_verified = @phone_verified, given_name = @given_name,
      family_name = @family_name, locale = @locale, status = @status, settings = @settings,
      required_actions = @required_actions, created_at = @created_at, updated_at = @updated_at
    WHERE id = @id`);
  const findById = db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM accounts WHERE id = ?`);
  // A username match wins over another account's e-mail address that happens to equal it.
  const findByLogin = db.prepare<{ key: string }, Row>(`
    SELECT ${COLUMNS} FROM accounts WHERE username_key = @key OR email_key = @key
    ORDER BY username_key = @key DESC LIMIT 1`);
  const list = db.prepare<[number, number], Row>(
    `SELECT ${COLUMNS} FROM accounts ORDER BY created_at, id LIMIT ? OFFSET ?`);
  const remove = db.prepare<[string]>('DELETE FROM accounts WHERE id = ?');
  const replaceSealedPhone = db.prepare<{ id: string; expected: string; next: string }>(
    'UPDATE accounts SET phone_encrypted = @next WHERE id = @id AND phone_encrypted = @expected');
  // SQLite's lower() folds ASCII only; names are matched as loginKey folds them (`Jörg` = `JÖRG`).
  db.function('pw_fold', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? loginKey(value) : null));
  const searches = new Map<string, Database.Statement<SearchParams, Row>>();
  const searchStatement = (filter: AccountSearch) => {
    const conditions = [
      ...(filter.text ? ["(instr(username_key, @text) > 0 OR instr(coalesce(email_key, ''), @text) > 0 OR instr(coalesce(pw_fold(given_name), ''), @text) > 0 OR instr(coalesce(pw_fold(family_name), ''), @text) > 0)"] : []),
      ...(filter.organisations ? ["id IN (SELECT member_id FROM organisation_members WHERE kind = 'account' AND organisation_id IN (SELECT value FROM json_each(@organisations)))"] : []),
      ...(filter.after ? ['(username_key > @afterKey OR (username_key = @afterKey AND id > @afterId))'] : []),
    ];
    const key = conditions.join(' AND ');
    let statement = searches.get(key);
    if (!statement) {
      statement = db.prepare<SearchParams, Row>(
        `SELECT ${COLUMNS} FROM accounts ${conditions.length ? `WHERE ${key}` : ''} ORDER BY username_key, id LIMIT @limit`);
      searches.set(key, statement);
    }
    return statement;
  };

  return {
    create(account) {
      try {
        insert.run(toParams(account));
      } catch (error) {
        throw asDuplicateError(error, DUPLICATE_FIELDS);
      }
    },
    update(account) {
      try {
        update.run(toParams(account));
      } catch (error) {
        throw asDuplicateError(error, DUPLICATE_FIELDS);
      }
    },
    findById(id) {
      const row = findById.get(id);
      return row && toRecord(row);
    },
    findByLogin(login) {
      if (login === '') return undefined;
      const row = findByLogin.get({ key: loginKey(login) });
      return row && toRecord(row);
    },
    list(options = {}) {
      // SQLite reads a negative LIMIT as "no limit".
      const limit = options.limit === undefined ? -1 : Math.max(0, Math.floor(options.limit));
      const offset = Math.max(0, Math.floor(options.offset ?? 0));
      return list.all(limit, offset).map(toRecord);
    },
    search(filter) {
      const params: SearchParams = {
        text: filter.text ? loginKey(filter.text) : '',
        organisations: JSON.stringify(filter.organisations ?? []),
        afterKey: filter.after ? loginKey(filter.after.username) : '',
        afterId: filter.after?.id ?? '',
        limit: Math.max(0, Math.floor(filter.limit)),
      };
      return searchStatement(filter).all(params).map(toRecord);
    },
    remove(id) {
      // Credentials, one-time codes and remembered devices go with it (ON DELETE CASCADE).
      remove.run(id);
    },
    replaceSealedPhone(id, expected, next) {
      return replaceSealedPhone.run({ id, expected, next }).changes === 1;
    },
  };
}
