// One collection per concern. Times that expire are Dates (TTL indexes only work on Dates); the
// other times are Dates too, for consistency when reading the collections by hand.
import { Schema, type Connection, type Types } from 'mongoose';
import type { AccountStatus } from '../port.ts';
import { CASE_INSENSITIVE, SCHEMA_OPTIONS, TTL } from './common.ts';
import { createLifecycleModels } from './lifecycle-models.ts';
import { createAdminModels } from './admin-models.ts';

export interface OidcDoc {
  /** `${model}:${id}`: model names contain no colon, so this is unique and unambiguous. */
  _id: string;
  model: string;
  payload: Record<string, unknown>;
  grantId: string | null;
  uid: string | null;
  userCode: string | null;
  /** Whose sign-in it is (absent on documents written before revocation by account). */
  accountId?: string | null;
  expiresAt: Date | null;
  consumedAt: Date | null;
}

export interface AccountDoc {
  _id: string;
  username: string;
  email: string;
  emailVerified: boolean;
  phoneEncrypted: string | null;
  phoneHint: string | null;
  phoneVerified: boolean;
  givenName: string | null;
  familyName: string | null;
  locale: string;
  status: AccountStatus;
  settings: Record<string, unknown>;
  /** Absent on documents written before required actions existed: read as none. */
  requiredActions?: string[];
  createdAt: Date;
  updatedAt: Date;
}

export interface CredentialDoc {
  _id: string;
  accountId: string;
  type: string;
  /** Canonical JSON text, not a sub-document: compare-and-swap needs an exact comparison, and
   * MongoDB's sub-document equality depends on key order and numeric types. */
  data: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface FlowDoc {
  _id: string;
  kind: string;
  interactionUid: string | null;
  accountId: string | null;
  clientId: string | null;
  state: Record<string, unknown>;
  csrf: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface CodeDoc {
  _id: string;
  accountId: string;
  purpose: string;
  flowId: string | null;
  codeHash: string;
  attempts: number;
  sentAt: Date;
  expiresAt: Date;
  consumedAt: Date | null;
}

export interface ThrottleDoc {
  _id: string;
  count: number;
  windowStartedAt: Date;
  windowEndsAt: Date;
  lastHitAt: Date;
}

export interface LockoutDoc {
  _id: string;
  consecutiveFailures: number;
  failuresSinceSuccess: number;
  locks: number;
  lockedUntil: Date | null;
  hardLocked: boolean;
  updatedAt: Date;
  expiresAt: Date | null;
  /** Bumped on every write: the compare-and-swap in lockouts.ts matches on it. */
  version: number;
}

export interface DeviceDoc {
  _id: string;
  accountId: string;
  secretHash: string;
  /** Absent on documents written before the device had fields of its own (amr held [factor, strength, ...amr]). */
  factor?: string;
  strength?: number;
  amr: string[];
  acr: string;
  label: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

export interface SessionProofDoc {
  /** oidc-provider's session uid. */
  _id: string;
  accountId: string;
  proofs: Array<{ factor: string; amr: string[]; strength: number; at: number; replayed: boolean; multiFactor?: boolean; phishingResistant?: boolean; credential?: string }>;
  /** Absent in documents written before the login was kept. */
  login?: { startedAt: number; completedAt: number } | null;
  expiresAt: Date;
}

export interface AuditDoc {
  /** An ObjectId: it grows with insertion, so it orders events that share a millisecond. */
  _id?: Types.ObjectId;
  eventId: string;
  at: Date;
  type: string;
  accountId: string | null;
  clientId: string | null;
  ip: string | null;
  /** Absent on events written before these fields existed. */
  actor?: string | null;
  userAgent?: string | null;
  detail: Record<string, unknown>;
}

export interface ClientDoc {
  _id: string;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface SettingDoc {
  _id: string;
  value: unknown;
}

// Not `required`: mongoose's required check rejects '', which SQLite stores happily, and the
// port's types already rule out missing strings.
const text = { type: String } as const;
const nullableText = { type: String, default: null } as const;
const date = { type: Date, required: true } as const;
const nullableDate = { type: Date, default: null } as const;
const json = { type: Schema.Types.Mixed, default: () => ({}) } as const;

const oidcSchema = new Schema<OidcDoc>({
  _id: text,
  model: text,
  payload: json,
  grantId: nullableText,
  uid: nullableText,
  userCode: nullableText,
  accountId: nullableText,
  expiresAt: nullableDate,
  consumedAt: nullableDate,
}, SCHEMA_OPTIONS);
oidcSchema.index({ model: 1, uid: 1 });
oidcSchema.index({ accountId: 1 }, { sparse: true });
oidcSchema.index({ model: 1, accountId: 1 });
oidcSchema.index({ model: 1, userCode: 1 });
oidcSchema.index({ grantId: 1 });
oidcSchema.index({ expiresAt: 1 }, TTL);

const accountSchema = new Schema<AccountDoc>({
  _id: text,
  username: text,
  email: text,
  emailVerified: { type: Boolean, required: true },
  phoneEncrypted: nullableText,
  phoneHint: nullableText,
  phoneVerified: { type: Boolean, required: true },
  givenName: nullableText,
  familyName: nullableText,
  locale: text,
  status: { type: String, enum: ['active', 'disabled'], required: true },
  settings: json,
  requiredActions: { type: [String], default: undefined },
  createdAt: date,
  updatedAt: date,
}, SCHEMA_OPTIONS);
accountSchema.index({ username: 1 }, { unique: true, collation: CASE_INSENSITIVE });
// Accounts without an e-mail address ('') must not collide with one another.
accountSchema.index({ email: 1 }, {
  unique: true, collation: CASE_INSENSITIVE, partialFilterExpression: { email: { $gt: '' } },
});
accountSchema.index({ createdAt: 1, _id: 1 });

const credentialSchema = new Schema<CredentialDoc>({
  _id: text,
  accountId: text,
  type: text,
  data: text,
  createdAt: date,
  lastUsedAt: nullableDate,
}, SCHEMA_OPTIONS);
credentialSchema.index({ accountId: 1, type: 1, createdAt: 1 });

const flowSchema = new Schema<FlowDoc>({
  _id: text,
  kind: text,
  interactionUid: nullableText,
  accountId: nullableText,
  clientId: nullableText,
  state: json,
  csrf: text,
  createdAt: date,
  expiresAt: date,
}, SCHEMA_OPTIONS);
flowSchema.index({ interactionUid: 1, createdAt: -1 });
flowSchema.index({ expiresAt: 1 }, TTL);
flowSchema.index({ accountId: 1 }, { partialFilterExpression: { accountId: { $type: 'string' } } });

const codeSchema = new Schema<CodeDoc>({
  _id: text,
  accountId: text,
  purpose: text,
  flowId: nullableText,
  codeHash: text,
  attempts: { type: Number, required: true },
  sentAt: date,
  expiresAt: date,
  consumedAt: nullableDate,
}, SCHEMA_OPTIONS);
codeSchema.index({ accountId: 1, purpose: 1, sentAt: -1 });
codeSchema.index({ expiresAt: 1 }, TTL);

const throttleSchema = new Schema<ThrottleDoc>({
  _id: text,
  count: { type: Number, required: true },
  windowStartedAt: date,
  windowEndsAt: date,
  lastHitAt: date,
}, SCHEMA_OPTIONS);
throttleSchema.index({ windowEndsAt: 1 }, TTL);

const lockoutSchema = new Schema<LockoutDoc>({
  _id: text,
  consecutiveFailures: { type: Number, required: true },
  failuresSinceSuccess: { type: Number, required: true },
  locks: { type: Number, required: true },
  lockedUntil: nullableDate,
  hardLocked: { type: Boolean, required: true },
  updatedAt: date,
  expiresAt: nullableDate,
  version: { type: Number, required: true },
}, SCHEMA_OPTIONS);
lockoutSchema.index({ expiresAt: 1 }, TTL);

const deviceSchema = new Schema<DeviceDoc>({
  _id: text,
  accountId: text,
  secretHash: text,
  factor: { type: String },
  strength: { type: Number },
  amr: { type: [String], default: [] },
  acr: text,
  label: text,
  createdAt: date,
  expiresAt: date,
  lastUsedAt: nullableDate,
}, SCHEMA_OPTIONS);
deviceSchema.index({ accountId: 1, createdAt: 1 });
deviceSchema.index({ expiresAt: 1 }, TTL);

const sessionProofSchema = new Schema<SessionProofDoc>({
  _id: text,
  accountId: text,
  proofs: { type: Schema.Types.Mixed, default: () => [] },
  login: { type: Schema.Types.Mixed, default: null },
  expiresAt: date,
}, SCHEMA_OPTIONS);
sessionProofSchema.index({ expiresAt: 1 }, TTL);
sessionProofSchema.index({ accountId: 1 });

const auditSchema = new Schema<AuditDoc>({
  eventId: text,
  at: date,
  type: text,
  accountId: nullableText,
  clientId: nullableText,
  ip: nullableText,
  actor: nullableText,
  userAgent: nullableText,
  detail: json,
}, SCHEMA_OPTIONS);
auditSchema.index({ eventId: 1 }, { unique: true });
auditSchema.index({ at: -1, _id: -1 });
// The export pages oldest first by (at, eventId).
auditSchema.index({ at: 1, eventId: 1 });
auditSchema.index({ accountId: 1, at: -1, _id: -1 });
auditSchema.index({ type: 1, at: -1, _id: -1 });
// The admin audit log pages newest first by (at, eventId) — the export's index above, read
// backwards — filtered by actor or portal.
auditSchema.index({ actor: 1, at: -1, eventId: -1 });
auditSchema.index({ clientId: 1, at: -1, eventId: -1 });

const clientSchema = new Schema<ClientDoc>({
  _id: text,
  metadata: json,
  createdAt: date,
  updatedAt: date,
}, SCHEMA_OPTIONS);
clientSchema.index({ createdAt: 1, _id: 1 });

const settingSchema = new Schema<SettingDoc>({
  _id: text,
  value: { type: Schema.Types.Mixed },
}, SCHEMA_OPTIONS);

export function createModels(connection: Connection) {
  return {
    oidc: connection.model<OidcDoc>('OidcModel', oidcSchema, 'oidc_models'),
    accounts: connection.model<AccountDoc>('Account', accountSchema, 'accounts'),
    credentials: connection.model<CredentialDoc>('Credential', credentialSchema, 'credentials'),
    flows: connection.model<FlowDoc>('Flow', flowSchema, 'flows'),
    codes: connection.model<CodeDoc>('OneTimeCode', codeSchema, 'one_time_codes'),
    throttles: connection.model<ThrottleDoc>('Throttle', throttleSchema, 'throttles'),
    lockouts: connection.model<LockoutDoc>('Lockout', lockoutSchema, 'lockouts'),
    devices: connection.model<DeviceDoc>('Device', deviceSchema, 'devices'),
    sessionProofs: connection.model<SessionProofDoc>('SessionProof', sessionProofSchema, 'session_proofs'),
    audit: connection.model<AuditDoc>('AuditEvent', auditSchema, 'audit_events'),
    clients: connection.model<ClientDoc>('Client', clientSchema, 'clients'),
    settings: connection.model<SettingDoc>('Setting', settingSchema, 'settings'),
    ...createLifecycleModels(connection),
    ...createAdminModels(connection),
  };
}

export type Models = ReturnType<typeof createModels>;
