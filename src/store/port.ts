// The storage port: everything Poortwachter persists goes through these interfaces. Two
// implementations (sqlite/ embedded default, mongo/ scale-out) pass the same contract tests in
// test/store/contract.ts. Records are plain data; the layers above own their meaning (a factor
// owns the shape of its credential `data`, accounts/ encrypts phone numbers before they get here).
//
// Times are epoch milliseconds. Every method takes `now` where expiry matters, so tests can use a
// fake clock and implementations never read the wall clock for decisions.
import type { StoreUnavailableError } from './errors.ts';

/**
 * One oidc-provider model instance (Session, AccessToken, Grant, Interaction, ...). The store
 * indexes the payload's string members `grantId`, `uid`, `userCode` and `accountId` and treats the rest as
 * opaque: the adapter (oidc/adapter.ts) hands in keyed hashes for ids and those members and
 * seals everything else, so no live token or session id is readable in the store.
 */
export interface OidcRecord {
  payload: Record<string, unknown>;
  expiresAt: number | null;
  consumedAt: number | null;
}

/** A record to store in the same atomic step as a rotation (`OidcModelStore.rotate`). */
export interface OidcWrite {
  model: string;
  id: string;
  payload: Record<string, unknown>;
  expiresAt: number | null;
}

export interface OidcModelStore {
  upsert(model: string, id: string, payload: Record<string, unknown>, expiresAt: number | null): Promise<void>;
  /** Returns undefined for unknown or expired records. */
  find(model: string, id: string, now: number): Promise<OidcRecord | undefined>;
  findByUid(model: string, uid: string, now: number): Promise<OidcRecord | undefined>;
  findByUserCode(model: string, userCode: string, now: number): Promise<OidcRecord | undefined>;
  /**
   * Compare-and-swap: marks the record consumed only if it was not yet. True for exactly one
   * caller across processes; false when it was consumed already or is gone (revoked, swept), so
   * a code or refresh token can never be redeemed twice.
   */
  consume(model: string, id: string, now: number): Promise<boolean>;
  /**
   * Refresh-token rotation as one atomic step: consumes `consumedId` as `consume` does and, only
   * if that succeeded, stores the new record and the `alongside` records (the access token issued
   * with it). False (and nothing changed) when `consumedId` was consumed already or is gone. Should
   * storing any of them fail, the old one stays unconsumed and none is kept, so the client's retry
   * is a retry, not a replay.
   */
  rotate(model: string, consumedId: string, id: string, payload: Record<string, unknown>, expiresAt: number | null, now: number, alongside?: readonly OidcWrite[]): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes every record of every model that belongs to the grant. */
  revokeByGrantId(grantId: string): Promise<void>;
  /**
   * Removes every record of every model that names the account (`accountId` of the stored
   * payload: sessions, grants, codes, access and refresh tokens), except the Session whose stored
   * `uid` is `exceptSessionUid` (in the form it is stored, i.e. hashed by the adapter). A password
   * change ends every other sign-in. Returns how many records went.
   */
  revokeByAccount(accountId: string, options?: { exceptSessionUid?: string }): Promise<number>;
  /**
   * The unexpired records of one model whose payload names the account (`accountId`, kept
   * beside the sealed payload as for `revokeByAccount`): the account console lists a patient's
   * sessions and grants with it.
   */
  listByAccount(model: string, accountId: string, now: number): Promise<OidcRecord[]>;
  /**
   * One-off data migrations at start: calls `transform` for every record (also expired ones); a
   * returned value replaces the record's id and payload (its indexed members follow the payload).
   * Idempotent transforms only: several processes may run it. Returns how many records changed.
   */
  rewriteAll(transform: (model: string, id: string, payload: Record<string, unknown>) => { id: string; payload: Record<string, unknown> } | undefined): Promise<number>;
}

export type AccountStatus = 'active' | 'disabled';

export interface AccountRecord {
  id: string;
  username: string;
  email: string;
  emailVerified: boolean;
  /** AES-256-GCM ciphertext (accounts/ encrypts), or null. */
  phoneEncrypted: string | null;
  /** Last two digits, for masked display without decrypting. */
  phoneHint: string | null;
  phoneVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  locale: string;
  status: AccountStatus;
  /** Account-level settings (remember-device duration, default factor, ...). */
  settings: Record<string, unknown>;
  /**
   * Required actions (Keycloak's term) the patient must complete at the next login, before the
   * portal gets it: ids from src/actions/registry.ts, e.g. `update-password`, `verify-email`.
   * Cleared by the flow once the action is no longer due.
   */
  requiredActions: string[];
  createdAt: number;
  updatedAt: number;
}

export interface AccountStore {
  create(account: AccountRecord): Promise<void>;
  /** Replaces the whole record; throws DuplicateError on a taken username/email. */
  update(account: AccountRecord): Promise<void>;
  findById(id: string): Promise<AccountRecord | undefined>;
  /** Case-insensitive match on username or e-mail. */
  findByLogin(login: string): Promise<AccountRecord | undefined>;
  list(options?: { limit?: number; offset?: number }): Promise<AccountRecord[]>;
  remove(id: string): Promise<void>;
  /**
   * Admin search, ordered by (case-folded username, id): `text` matches a part of the username,
   * e-mail address, given or family name (case-insensitive); `organisations`, when given, keeps
   * the accounts that belong to at least one of them (an empty list matches none); `after`
   * continues after the last account of the previous page.
   */
  search(filter: AccountSearch): Promise<AccountRecord[]>;
  /**
   * Sets the sealed phone number to `next` only while it still is `expected`, touching no other
   * field (not even updatedAt); false when it changed first. The start-up re-seal of phone
   * numbers (accounts/bound-secrets.ts) uses it, so processes starting together lose nothing.
   */
  replaceSealedPhone(id: string, expected: string, next: string): Promise<boolean>;
}

export interface AccountSearch {
  text?: string;
  organisations?: readonly string[];
  after?: { username: string; id: string };
  limit: number;
}

/** A credential of one factor for one account; `data` is owned by the factor. */
export interface CredentialRecord {
  id: string;
  accountId: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface CredentialStore {
  put(credential: CredentialRecord): Promise<void>;
  listByAccount(accountId: string, type?: string): Promise<CredentialRecord[]>;
  findById(id: string): Promise<CredentialRecord | undefined>;
  remove(id: string): Promise<void>;
  removeByAccount(accountId: string, type?: string): Promise<void>;
  /**
   * Atomically replaces `data` only when the stored version still equals `expectedData`
   * (compare-and-swap on JSON); returns false when someone else changed it first. Single-use
   * secrets (TOTP replay window, recovery codes) rely on this across processes.
   */
  compareAndSwap(id: string, expectedData: Record<string, unknown>, nextData: Record<string, unknown>, now: number): Promise<boolean>;
}

/** A hosted interaction flow (login, settings, ...). See flows/kit/flow-store.ts. */
export interface FlowRecord {
  id: string;
  kind: string;
  interactionUid: string | null;
  accountId: string | null;
  clientId: string | null;
  state: Record<string, unknown>;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

export interface FlowStore {
  put(flow: FlowRecord): Promise<void>;
  find(id: string, now: number): Promise<FlowRecord | undefined>;
  findByInteraction(interactionUid: string, now: number): Promise<FlowRecord | undefined>;
  remove(id: string): Promise<void>;
  /**
   * Every flow of the account (erasure), or every one but `exceptId` (a password reset cancels the
   * account's other flows: pending logins that proved the old password, other recoveries).
   */
  removeByAccount(accountId: string, exceptId?: string): Promise<void>;
}

/** A one-time code sent by e-mail, SMS or voice. Only the salted hash is stored. */
export interface OneTimeCodeRecord {
  id: string;
  accountId: string;
  /** What the code is for, e.g. `login:sms`, `enrol:sms`, `verify-phone`. */
  purpose: string;
  /** The flow that sent the code: a code counts only in that flow (another browser's login
   * within the resend cooldown must not adopt it). Null for codes sent outside a flow. */
  flowId: string | null;
  codeHash: string;
  attempts: number;
  sentAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

export interface OneTimeCodeStore {
  /** Stores the new code and voids (deletes) every other code of the same account + purpose. */
  replace(code: OneTimeCodeRecord): Promise<void>;
  /** The newest unconsumed, unexpired code for the account + purpose. */
  findActive(accountId: string, purpose: string, now: number): Promise<OneTimeCodeRecord | undefined>;
  /** Atomically increments attempts; returns the new count. */
  recordAttempt(id: string): Promise<number>;
  /** Marks consumed only if not consumed yet; returns false when it already was (single use). */
  consume(id: string, now: number): Promise<boolean>;
  removeByAccount(accountId: string, purpose?: string): Promise<void>;
}

/** Counters in fixed windows: failed logins per account, sends per hour, ... */
export interface ThrottleRecord {
  key: string;
  count: number;
  windowStartedAt: number;
  windowEndsAt: number;
  /** Last time `hit` was called; used for cooldowns. */
  lastHitAt: number;
}

export interface ThrottleStore {
  /** Increments the counter of `key` in a window of `windowMs` (a new window starts when the old one ended). */
  hit(key: string, windowMs: number, now: number): Promise<ThrottleRecord>;
  get(key: string, now: number): Promise<ThrottleRecord | undefined>;
  reset(key: string): Promise<void>;
  /**
   * Gives back one hit of a live window (never below zero): a limit that counts every attempt
   * before checking it returns the hits of attempts that turned out fine.
   */
  release(key: string, now: number): Promise<void>;
}

/**
 * Progressive lockout state of one key (an account, or a keyed hash of a typed login name).
 * The layers above own the rules (accounts/lockout.ts); the store only keeps the record and
 * applies a change atomically.
 */
export interface LockoutRecord {
  key: string;
  /** Failures since the last success, lock or unlock; the next lock comes at the threshold. */
  consecutiveFailures: number;
  /** Evaluated guesses since the last successful login or unlock (the hard cap counts these). */
  failuresSinceSuccess: number;
  /** Temporary locks since the last success or unlock: picks the next lock's duration. */
  locks: number;
  lockedUntil: number | null;
  /** Only an unlock (operator, later the patient's self-service) lifts a hard lock. */
  hardLocked: boolean;
  updatedAt: number;
  /** When the record may be forgotten; null keeps it until it is reset. */
  expiresAt: number | null;
}

export interface LockoutChange<T> {
  /** The record to store, or null to delete it; the very record `change` was given: no write. */
  next: LockoutRecord | null;
  result: T;
}

export interface LockoutStore {
  /** The live record of `key` (undefined when there is none or it expired). */
  get(key: string, now: number): Promise<LockoutRecord | undefined>;
  /**
   * Atomically reads the live record of `key` (undefined when none), stores what `change` returns
   * and returns its `result`. Two processes never both change from the same record: this is how
   * parallel guesses are counted before any of them is evaluated. `change` must be pure and
   * synchronous: an implementation may call it again when another writer came first.
   */
  update<T>(key: string, now: number, change: (current: LockoutRecord | undefined) => LockoutChange<T>): Promise<T>;
  remove(key: string): Promise<void>;
}

/** A remembered device: the cookie holds `id.secret`, the store holds the secret's hash. */
export interface DeviceRecord {
  id: string;
  accountId: string;
  secretHash: string;
  /** The second factor the device stands in for, and what it proved then: a remembered login never reports more. */
  factor: string;
  strength: 1 | 2;
  /** RFC 8176 values of that factor's proof. */
  amr: string[];
  acr: string;
  label: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
}

export interface DeviceStore {
  put(device: DeviceRecord): Promise<void>;
  find(id: string, now: number): Promise<DeviceRecord | undefined>;
  listByAccount(accountId: string, now: number): Promise<DeviceRecord[]>;
  remove(id: string): Promise<void>;
  removeByAccount(accountId: string): Promise<void>;
}

/**
 * How one proof of a login was obtained. `replayed` is true when a remembered device stood in for
 * the factor instead of a code typed in this login.
 */
export interface ProofProvenance {
  factor: string;
  amr: string[];
  strength: number;
  at: number;
  replayed: boolean;
  /** A proof that is multi-factor on its own (a user-verifying passkey): a passwordless session stays substantial. */
  multiFactor?: boolean;
  /** Bound to our origin by the ceremony (a passkey): the phishing-resistant level reads it. */
  phishingResistant?: boolean;
  /** The credential record that proved it (passkey, app): the admin console asks when it was set up. */
  credential?: string;
}

/** The fields of a stored proof, and only those (a record never carries more than the port describes). */
export function provenanceFields(p: ProofProvenance): ProofProvenance {
  return {
    factor: p.factor, amr: [...p.amr], strength: p.strength, at: p.at, replayed: p.replayed,
    ...(p.multiFactor === true ? { multiFactor: true } : {}),
    ...(p.phishingResistant === true ? { phishingResistant: true } : {}),
    ...(typeof p.credential === 'string' ? { credential: p.credential } : {}),
  };
}

/**
 * The proofs behind one oidc-provider session (keyed by the session's `uid`, which survives
 * oidc-provider's `resetIdentifier`). oidc-provider's Session cannot carry extra fields, so
 * policies that must tell a fresh code from a remembered device read this record.
 */
export interface SessionProofRecord {
  sessionUid: string;
  accountId: string;
  proofs: ProofProvenance[];
  /**
   * The login that made the proofs: when its flow started (the authorization request) and when
   * the session received it, on our clock. `max_age` is measured from it. Null in records written
   * before it was kept.
   */
  login: { startedAt: number; completedAt: number } | null;
  expiresAt: number;
}

export interface SessionProofStore {
  /** Stores the record, replacing the session's previous one (a new login replaces its proofs). */
  put(record: SessionProofRecord): Promise<void>;
  /** Returns undefined for unknown or expired records. */
  find(sessionUid: string, now: number): Promise<SessionProofRecord | undefined>;
  /** Every record of the account (erasure). */
  removeByAccount(accountId: string): Promise<void>;
}

export interface AuditEvent {
  id: string;
  at: number;
  type: string;
  /** The subject account; after its erasure a keyed pseudonym (`pseudonymise`). */
  accountId: string | null;
  clientId: string | null;
  ip: string | null;
  /** Who did it: `patient`, `operator:<os user>`, `system`; null for events written before this field. */
  actor: string | null;
  /** The browser's User-Agent header (cut short), when a browser was involved. */
  userAgent: string | null;
  /** Never a secret, code, password, token or full phone number. */
  detail: Record<string, unknown>;
}

export interface AuditStore {
  append(event: AuditEvent): Promise<void>;
  list(filter?: { accountId?: string; type?: string; limit?: number }): Promise<AuditEvent[]>;
  /**
   * Erasure: every event of `accountId` keeps its place in the trail but names `pseudonym` instead
   * (a keyed hash, so an operator holding the key can still tie a complaint to the events).
   * Returns how many events changed.
   */
  pseudonymise(accountId: string, pseudonym: string): Promise<number>;
  /**
   * Oldest first, for an export: events before `until` (all when absent) that come after the
   * event `after` (the last one of the previous page) in (at, id) order.
   */
  listOldestFirst(page: { until?: number; after?: { at: number; id: string }; limit: number }): Promise<AuditEvent[]>;
  /** Deletes the events before `at` (the retention limit); returns how many. */
  removeBefore(at: number): Promise<number>;
  /**
   * Newest first by (at, id), every given filter applied (exact matches; `from` inclusive, `until`
   * exclusive), continuing after `before` (the last event of the previous page): the admin audit
   * log's cursor paging.
   */
  search(filter: AuditSearch): Promise<AuditEvent[]>;
}

export interface AuditSearch {
  accountId?: string;
  actor?: string;
  type?: string;
  clientId?: string;
  from?: number;
  until?: number;
  before?: { at: number; id: string };
  limit: number;
}

/** A registered relying party: oidc-provider client metadata plus our own properties. */
export interface ClientRecord {
  clientId: string;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface ClientStore {
  put(client: ClientRecord): Promise<void>;
  /** Stores the client only if its id is free; false (and nothing changed) when it exists. */
  putIfAbsent(client: ClientRecord): Promise<boolean>;
  find(clientId: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  remove(clientId: string): Promise<boolean>;
}

/** A named password profile (accounts/password-profile.ts owns the meaning of each rule). */
export interface PasswordProfileRecord {
  name: string;
  minLength: number;
  maxLength: number;
  /** Character classes that must each appear: `digit`, `upper`, `lower`, `special`. */
  require: string[];
  /** What counts as special; null: any character that is neither a letter nor a digit. */
  specials: string | null;
  blocklist: boolean;
  notNames: boolean;
  history: number;
  createdAt: number;
  updatedAt: number;
}

export interface PasswordProfileStore {
  /** Creates or replaces the profile of that name. */
  put(profile: PasswordProfileRecord): Promise<void>;
  find(name: string): Promise<PasswordProfileRecord | undefined>;
  /** By name. */
  list(): Promise<PasswordProfileRecord[]>;
  /** False when there was no such profile. */
  remove(name: string): Promise<boolean>;
}

/** A portal an account completed a login at: whose password profile its password must meet. */
export interface AccountPortalRecord {
  accountId: string;
  clientId: string;
  firstLoginAt: number;
  lastLoginAt: number;
}

export interface AccountPortalStore {
  /** Notes a completed login: creates the pair or moves its `lastLoginAt` (never backwards). */
  record(accountId: string, clientId: string, now: number): Promise<void>;
  /** The account's portals, first used first. */
  listByAccount(accountId: string): Promise<AccountPortalRecord[]>;
  removeByAccount(accountId: string): Promise<void>;
}

/** An organisation (a practice): accounts and portals belong to one or more. */
export interface OrganisationRecord {
  /** Chosen by the operator: lower-case letters, digits and `-`. */
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
}

/** What belongs to organisations: patient accounts and portals (clients). */
export type MemberKind = 'account' | 'client';

export interface OrganisationStore {
  /** Throws DuplicateError('id') when the id is taken. */
  create(organisation: OrganisationRecord): Promise<void>;
  find(id: string): Promise<OrganisationRecord | undefined>;
  /** By id. */
  list(): Promise<OrganisationRecord[]>;
  /** Removes the organisation and every membership in it; false when there was none. */
  remove(id: string): Promise<boolean>;
  /** Replaces the organisations an account or portal belongs to (an empty list: none). */
  setMemberships(kind: MemberKind, memberId: string, organisationIds: readonly string[]): Promise<void>;
  /** The organisations an account or portal belongs to, by id. */
  memberships(kind: MemberKind, memberId: string): Promise<string[]>;
  /** The members of one kind in any of `organisationIds`. */
  members(kind: MemberKind, organisationIds: readonly string[]): Promise<string[]>;
}

/** One account or portal in one organisation (export and import). */
export interface OrganisationMemberRecord {
  organisationId: string;
  kind: MemberKind;
  memberId: string;
}

export type AdminRole = 'operator' | 'practice' | 'auditor';

/** An account's admin role: who may use the console (and what the console may show them). */
export interface AdminGrantRecord {
  accountId: string;
  role: AdminRole;
  /** The organisations a `practice` admin acts for; empty for the other roles. */
  organisations: string[];
  grantedAt: number;
  /** The audit actor who granted it. */
  grantedBy: string;
}

export interface AdminGrantStore {
  /** Grants the role, replacing the account's previous grant. */
  put(grant: AdminGrantRecord): Promise<void>;
  find(accountId: string): Promise<AdminGrantRecord | undefined>;
  /** Oldest grant first. */
  list(): Promise<AdminGrantRecord[]>;
  /** False when the account had no grant. */
  remove(accountId: string): Promise<boolean>;
}

/**
 * Small named documents: signing keys, cookie keys, deployment settings. Records several
 * processes may create or change at once (keys on a first start, `keys rotate`) use putIfAbsent
 * and compareAndSet, then read back what won.
 */
export interface SettingStore {
  get<T>(name: string): Promise<T | undefined>;
  put(name: string, value: unknown): Promise<void>;
  /** Stores the value only if the name is free; false (and nothing changed) when it exists. */
  putIfAbsent(name: string, value: unknown): Promise<boolean>;
  /** Replaces the value only if it still equals `expected` (as JSON data, whatever the key order). */
  compareAndSet(name: string, expected: unknown, next: unknown): Promise<boolean>;
}

/** A named setting as a record (export and import). */
export interface SettingRecord {
  name: string;
  value: unknown;
}

/** One oidc-provider model as stored: hashed id, sealed payload (export and import). */
export interface StoredOidcRecord extends OidcRecord {
  model: string;
  id: string;
}

/** Every kind of record `poortwachter db export` carries, by the type name its lines use. */
export interface TransferRecords {
  account: AccountRecord;
  credential: CredentialRecord;
  client: ClientRecord;
  setting: SettingRecord;
  'password-profile': PasswordProfileRecord;
  organisation: OrganisationRecord;
  membership: OrganisationMemberRecord;
  'admin-grant': AdminGrantRecord;
  'account-portal': AccountPortalRecord;
  device: DeviceRecord;
  lockout: LockoutRecord;
  audit: AuditEvent;
  oidc: StoredOidcRecord;
  'session-proof': SessionProofRecord;
  flow: FlowRecord;
  code: OneTimeCodeRecord;
  throttle: ThrottleRecord;
}

export type TransferType = keyof TransferRecords;

/** The import of one type of record: all of it, or (after `abort`) none of it. */
export interface TransferImport<K extends TransferType> {
  /**
   * Stores the records whose key is free; those whose key exists are kept as they are and their
   * keys returned. Throws DuplicateError when a record collides otherwise (an account whose
   * username or e-mail address belongs to another account).
   */
  add(records: readonly TransferRecords[K][]): Promise<{ kept: string[] }>;
  /** Makes what `add` stored durable and visible as one whole (where the store has transactions). */
  commit(): Promise<void>;
  /** Takes back everything `add` stored in this import. */
  abort(): Promise<void>;
}

/**
 * Moving a whole installation between stores (`poortwachter db export` / `db import`): records
 * exactly as stored (still sealed, still hashed), expired ones included, one type at a time.
 */
export interface TransferStore {
  /**
   * Up to `limit` records of `type` that come after `after` (the last record of the previous
   * page) in the store's own stable order: an export pages through a type without holding it.
   */
  page<K extends TransferType>(type: K, after: TransferRecords[K] | undefined, limit: number): Promise<TransferRecords[K][]>;
  /**
   * Starts importing records of `type`. SQLite: one transaction for the whole type (other writes
   * on this connection wait until commit or abort). MongoDB: no transaction (one could outgrow a
   * transaction's limits); `abort` deletes what this import inserted.
   */
  begin<K extends TransferType>(type: K): Promise<TransferImport<K>>;
}

export interface Store {
  readonly kind: 'sqlite' | 'mongo';
  oidc: OidcModelStore;
  accounts: AccountStore;
  credentials: CredentialStore;
  flows: FlowStore;
  codes: OneTimeCodeStore;
  throttles: ThrottleStore;
  lockouts: LockoutStore;
  devices: DeviceStore;
  sessionProofs: SessionProofStore;
  audit: AuditStore;
  clients: ClientStore;
  settings: SettingStore;
  passwordProfiles: PasswordProfileStore;
  accountPortals: AccountPortalStore;
  organisations: OrganisationStore;
  adminGrants: AdminGrantStore;
  transfer: TransferStore;
  /** Deletes expired rows of every kind; returns how many. Run periodically by main.ts. */
  removeExpired(now: number): Promise<number>;
  /**
   * The schema version the database has now and the one this code expects (readiness: another
   * process may have migrated a shared database to a newer version since we started).
   * MongoDB: the highest version recorded in its `schema_versions` collection.
   */
  schemaVersion(): Promise<{ current: number; expected: number }>;
  /**
   * Brings the database to the schema this code expects; returns the versions before and after.
   * SQLite migrates as it opens, so this reports what opening did. MongoDB creates collections,
   * indexes and TTL indexes here (`poortwachter db migrate`, or at start with DB_MIGRATE=auto),
   * never lazily at request time. Idempotent, and safe for several processes at once.
   */
  migrate(): Promise<{ from: number; to: number }>;
  /**
   * Runs `work` (one HTTP request) and settles once everything it wrote is durable. A write is
   * durable when its promise settles anyway; inside `durably` the store may settle writes earlier
   * and make them durable together at the end (SQLite: one fsync instead of one per write). So a
   * response sent after `durably` never acknowledges what a power cut could take back.
   */
  durably<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Gives the space of deleted records back and overwrites their remains in the files (SQLite:
   * VACUUM, then truncating the write-ahead log; MongoDB: nothing, compaction is the server's).
   * Takes the database for itself while it runs: for migrations and `poortwachter db vacuum`.
   */
  compact(): Promise<void>;
  close(): Promise<void>;
  /**
   * Called once when the store can no longer be trusted to keep what it acknowledges (SQLite: an
   * fsync of the WAL failed, or its sync thread died or hung). The store then refuses every write
   * with StoreUnavailableError; only a restart recovers (serve.ts stops the process for that).
   * Stores without such a state (MongoDB) need not implement it.
   */
  onFatal?(listener: (error: StoreUnavailableError) => void): void;
}

export class DuplicateError extends Error {
  constructor(readonly field: string) {
    super(`duplicate ${field}`);
    this.name = 'DuplicateError';
  }
}
