// The SQLite schema and its migrations. `PRAGMA user_version` records how many migrations a
// database file has had, so an upgraded Poortwachter brings an older file up to date at start.
import type Database from 'better-sqlite3';

// Append a new entry for every schema change; never edit one that has shipped, files in the field
// have already run it. Each entry runs inside the same transaction that bumps user_version.
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS oidc_models (
    model       TEXT NOT NULL,
    id          TEXT NOT NULL,
    payload     TEXT NOT NULL,
    grant_id    TEXT,
    uid         TEXT,
    user_code   TEXT,
    expires_at  INTEGER,
    consumed_at INTEGER,
    PRIMARY KEY (model, id)
  ) STRICT;
  CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
  CREATE INDEX IF NOT EXISTS oidc_models_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
  CREATE INDEX IF NOT EXISTS oidc_models_grant_id ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE IF NOT EXISTS accounts (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    username_key    TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL,
    email_key       TEXT UNIQUE,
    email_verified  INTEGER NOT NULL,
    phone_encrypted TEXT,
    phone_hint      TEXT,
    phone_verified  INTEGER NOT NULL,
    given_name      TEXT,
    family_name     TEXT,
    locale          TEXT NOT NULL,
    status          TEXT NOT NULL,
    settings        TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS accounts_created_at ON accounts (created_at, id);

  CREATE TABLE IF NOT EXISTS credentials (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    data         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
  ) STRICT;
  CREATE INDEX IF NOT EXISTS credentials_account ON credentials (account_id, type, created_at);

  CREATE TABLE IF NOT EXISTS flows (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    interaction_uid TEXT,
    account_id      TEXT,
    client_id       TEXT,
    state           TEXT NOT NULL,
    csrf            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS flows_interaction ON flows (interaction_uid, created_at) WHERE interaction_uid IS NOT NULL;
  CREATE INDEX IF NOT EXISTS flows_expires_at ON flows (expires_at);

  CREATE TABLE IF NOT EXISTS one_time_codes (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    consumed_at INTEGER
  ) STRICT;
  CREATE INDEX IF NOT EXISTS one_time_codes_account ON one_time_codes (account_id, purpose, sent_at);
  CREATE INDEX IF NOT EXISTS one_time_codes_expires_at ON one_time_codes (expires_at);

  CREATE TABLE IF NOT EXISTS throttles (
    key               TEXT PRIMARY KEY,
    count             INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    window_ends_at    INTEGER NOT NULL,
    last_hit_at       INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS throttles_window_ends_at ON throttles (window_ends_at);

  CREATE TABLE IF NOT EXISTS devices (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,
    amr          TEXT NOT NULL,
    acr          TEXT NOT NULL,
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER
  ) STRICT;
  CREATE INDEX IF NOT EXISTS devices_account ON devices (account_id, created_at);
  CREATE INDEX IF NOT EXISTS devices_expires_at ON devices (expires_at);

  -- seq aliases the rowid: it orders events that share a millisecond by insertion.
  CREATE TABLE IF NOT EXISTS audit_events (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    at         INTEGER NOT NULL,
    type       TEXT NOT NULL,
    account_id TEXT,
    client_id  TEXT,
    ip         TEXT,
    detail     TEXT NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS audit_events_at ON audit_events (at);
  CREATE INDEX IF NOT EXISTS audit_events_account ON audit_events (account_id, at) WHERE account_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS audit_events_type ON audit_events (type, at);

  CREATE TABLE IF NOT EXISTS clients (
    client_id  TEXT PRIMARY KEY,
    metadata   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 2: progressive lockout per account and per (hashed) login name.
  `
  CREATE TABLE IF NOT EXISTS lockouts (
    key                     TEXT PRIMARY KEY,
    consecutive_failures    INTEGER NOT NULL,
    failures_since_success  INTEGER NOT NULL,
    locks                   INTEGER NOT NULL,
    locked_until            INTEGER,
    hard_locked             INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    expires_at              INTEGER
  ) STRICT;
  CREATE INDEX IF NOT EXISTS lockouts_expires_at ON lockouts (expires_at) WHERE expires_at IS NOT NULL;
  `,
  // 3: a one-time code belongs to the flow that sent it; the proofs behind each login session.
  `
  ALTER TABLE one_time_codes ADD COLUMN flow_id TEXT;

  CREATE TABLE IF NOT EXISTS session_proofs (
    session_uid TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    proofs      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS session_proofs_expires_at ON session_proofs (expires_at);
  `,
  // 4: the login behind a session's proofs (max_age is measured from its start); null before.
  `
  ALTER TABLE session_proofs ADD COLUMN login_started_at INTEGER;
  ALTER TABLE session_proofs ADD COLUMN login_completed_at INTEGER;
  `,
  // 5: required actions stored on the account (a JSON array of action ids); none for existing rows.
  `
  ALTER TABLE accounts ADD COLUMN required_actions TEXT NOT NULL DEFAULT '[]';
  `,
  // 6: a remembered device's factor and strength in columns of their own. Until now both were
  // packed in front of the amr values ([factor, strength, ...amr]); rows of that shape are split.
  `
  ALTER TABLE devices ADD COLUMN factor TEXT NOT NULL DEFAULT '';
  ALTER TABLE devices ADD COLUMN strength INTEGER NOT NULL DEFAULT 1;
  UPDATE devices SET
    factor = json_extract(amr, '$[0]'),
    strength = CASE json_extract(amr, '$[1]') WHEN '2' THEN 2 ELSE 1 END,
    amr = json_remove(amr, '$[0]', '$[0]')
  WHERE json_valid(amr) AND json_type(amr) = 'array' AND json_array_length(amr) >= 2 AND json_type(amr, '$[0]') = 'text';
  `,
  // 7: password profiles, the portals each account signs in to (whose profiles its password must
  // meet), and who did what in the audit trail.
  `
  CREATE TABLE IF NOT EXISTS password_profiles (
    name        TEXT PRIMARY KEY,
    min_length  INTEGER NOT NULL,
    max_length  INTEGER NOT NULL,
    require     TEXT NOT NULL,
    specials    TEXT,
    blocklist   INTEGER NOT NULL,
    not_names   INTEGER NOT NULL,
    history     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS account_portals (
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id      TEXT NOT NULL,
    first_login_at INTEGER NOT NULL,
    last_login_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
  ) STRICT, WITHOUT ROWID;

  ALTER TABLE audit_events ADD COLUMN actor TEXT;
  ALTER TABLE audit_events ADD COLUMN user_agent TEXT;
  CREATE INDEX IF NOT EXISTS flows_account ON flows (account_id) WHERE account_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS session_proofs_account ON session_proofs (account_id);

  -- Whose sign-in an oidc record is (sessions, grants, codes, tokens), so a password change can
  -- end them all; filled on every save, and for records written before by the start-up backfill.
  ALTER TABLE oidc_models ADD COLUMN account_id TEXT;
  CREATE INDEX IF NOT EXISTS oidc_models_account ON oidc_models (account_id) WHERE account_id IS NOT NULL;
  `,
  // 8: organisations (practices) with their accounts and portals, admin roles, and the audit
  // log's filters (actor, portal) for the admin console and API.
  `
  CREATE TABLE IF NOT EXISTS organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE IF NOT EXISTS organisation_members (
    organisation_id TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    member_id       TEXT NOT NULL,
    PRIMARY KEY (kind, member_id, organisation_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS organisation_members_by_organisation ON organisation_members (organisation_id, kind, member_id);

  CREATE TABLE IF NOT EXISTS admin_grants (
    account_id    TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    role          TEXT NOT NULL,
    organisations TEXT NOT NULL,
    granted_at    INTEGER NOT NULL,
    granted_by    TEXT NOT NULL
  ) STRICT;

  CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor, at) WHERE actor IS NOT NULL;
  CREATE INDEX IF NOT EXISTS audit_events_client ON audit_events (client_id, at) WHERE client_id IS NOT NULL;
  CREATE INDEX IF NOT EXISTS accounts_username_key ON accounts (username_key, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(db: Database.Database): void {
  // IMMEDIATE takes the write lock before reading user_version, so two processes starting on the
  // same file cannot both run the same migration.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true });
    if (typeof current !== 'number') throw new Error('cannot read the database schema version');
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `database schema version ${current} is newer than this Poortwachter supports (${SCHEMA_VERSION}); upgrade Poortwachter`,
      );
    }
    for (const sql of MIGRATIONS.slice(current)) db.exec(sql);
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
