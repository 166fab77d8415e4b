// The export format of `poortwachter db export` / `db import`: JSON lines. The first line is a
// versioned header; every other line is one record, `{"type":"account","record":{...}}` (the
// record nested, because credentials and audit events have a `type` of their own). Records are
// exactly as stored: TOTP secrets, phone numbers, private keys and client secrets stay sealed with
// SECRETS_KEY, token and session ids stay keyed hashes. So the target must run with the same
// SECRETS_KEY, which the header's key check value lets an import verify before it writes anything.
import { createHmac, hkdfSync } from 'node:crypto';
import { z } from 'zod';
import type { TransferRecords, TransferType } from '../../store/port.ts';

export const FORMAT = 'poortwachter-export';
// 2: password profiles, organisations and their members, admin grants, the portals of each account.
export const FORMAT_VERSION = 2;

export interface ExportHeader {
  format: typeof FORMAT;
  version: number;
  createdAt: string;
  /** The store the export was read from, and its schema version then. */
  source: { store: 'sqlite' | 'mongo'; schemaVersion: number };
  /** HMAC of a fixed text under a key derived from SECRETS_KEY: equal only for the same key. */
  secretsKeyCheck: string;
  /** Whether live sessions, tokens, flows, codes and counters are included (--include-live). */
  live: boolean;
}

/**
 * A key check value: proves two installations share SECRETS_KEY without revealing it (HKDF to a
 * key of its own, then HMAC-SHA256 of a fixed text; 128 bits shown).
 */
export function secretsKeyCheck(secretsKey: Buffer): string {
  const key = Buffer.from(hkdfSync('sha256', secretsKey, 'poortwachter', 'export-key-check', 32));
  return createHmac('sha256', key).update(FORMAT).digest('hex').slice(0, 32);
}

const time = z.number().int();
const nullableTime = time.nullable();
const text = z.string();
const nullableText = text.nullable();
const object = z.record(z.string(), z.unknown());

// Strict: a field the format does not know is a sign of a corrupt or foreign file.
const schemas: { [K in TransferType]: z.ZodType<TransferRecords[K]> } = {
  account: z.strictObject({
    id: text, username: text, email: text, emailVerified: z.boolean(), phoneEncrypted: nullableText, phoneHint: nullableText,
    phoneVerified: z.boolean(), givenName: nullableText, familyName: nullableText, locale: text,
    status: z.enum(['active', 'disabled']), settings: object, requiredActions: z.array(text), createdAt: time, updatedAt: time,
  }),
  credential: z.strictObject({ id: text, accountId: text, type: text, data: object, createdAt: time, lastUsedAt: nullableTime }),
  client: z.strictObject({ clientId: text, metadata: object, createdAt: time, updatedAt: time }),
  setting: z.strictObject({ name: text, value: z.unknown().refine((v) => v !== undefined, 'missing') }) as z.ZodType<TransferRecords['setting']>,
  'password-profile': z.strictObject({
    name: text, minLength: time, maxLength: time, require: z.array(text), specials: nullableText, blocklist: z.boolean(), notNames: z.boolean(),
    history: time, createdAt: time, updatedAt: time,
  }),
  organisation: z.strictObject({ id: text, name: text, createdAt: time, updatedAt: time }),
  membership: z.strictObject({ organisationId: text, kind: z.enum(['account', 'client']), memberId: text }),
  'admin-grant': z.strictObject({
    accountId: text, role: z.enum(['operator', 'practice', 'auditor']), organisations: z.array(text), grantedAt: time, grantedBy: text,
  }),
  'account-portal': z.strictObject({ accountId: text, clientId: text, firstLoginAt: time, lastLoginAt: time }),
  device: z.strictObject({
    id: text, accountId: text, secretHash: text, factor: text, strength: z.union([z.literal(1), z.literal(2)]), amr: z.array(text),
    acr: text, label: text, createdAt: time, expiresAt: time, lastUsedAt: nullableTime,
  }),
  lockout: z.strictObject({
    key: text, consecutiveFailures: time, failuresSinceSuccess: time, locks: time, lockedUntil: nullableTime,
    hardLocked: z.boolean(), updatedAt: time, expiresAt: nullableTime,
  }),
  audit: z.strictObject({ id: text, at: time, type: text, accountId: nullableText, clientId: nullableText, ip: nullableText, actor: nullableText.default(null), userAgent: nullableText.default(null), detail: object }),
  oidc: z.strictObject({ model: z.string().regex(/^[^:]+$/), id: text, payload: object, expiresAt: nullableTime, consumedAt: nullableTime }),
  'session-proof': z.strictObject({
    sessionUid: text, accountId: text,
    proofs: z.array(z.strictObject({ factor: text, amr: z.array(text), strength: z.number(), at: time, replayed: z.boolean(), multiFactor: z.literal(true).optional(), phishingResistant: z.literal(true).optional(), credential: text.optional() })),
    login: z.strictObject({ startedAt: time, completedAt: time }).nullable(), expiresAt: time,
  }),
  flow: z.strictObject({
    id: text, kind: text, interactionUid: nullableText, accountId: nullableText, clientId: nullableText, state: object,
    csrf: text, createdAt: time, expiresAt: time,
  }),
  code: z.strictObject({
    id: text, accountId: text, purpose: text, flowId: nullableText, codeHash: text, attempts: time, sentAt: time,
    expiresAt: time, consumedAt: nullableTime,
  }),
  throttle: z.strictObject({ key: text, count: time, windowStartedAt: time, windowEndsAt: time, lastHitAt: time }),
};

const headerSchema = z.object({
  format: z.literal(FORMAT),
  version: z.number().int().min(1),
  createdAt: z.string(),
  source: z.object({ store: z.enum(['sqlite', 'mongo']), schemaVersion: z.number().int() }),
  secretsKeyCheck: z.string(),
  live: z.boolean(),
});

/** A line that is not what the format says, with its number (1 is the header). */
export class DumpLineError extends Error {
  constructor(readonly line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.name = 'DumpLineError';
  }
}

function parseJson(line: number, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DumpLineError(line, 'not a JSON object (a truncated or edited file?)');
  }
}

/** Where zod found the problem: `record.createdAt: expected number`. Never the value itself (it may be sealed data). */
function describeIssue(error: z.ZodError, prefix: string): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const at = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return `${at || 'line'}: ${issue.message}`;
}

export function parseHeader(text: string): ExportHeader {
  const value = parseJson(1, text);
  if (typeof value !== 'object' || value === null || (value as { format?: unknown }).format !== FORMAT) {
    throw new DumpLineError(1, `not a Poortwachter export (the first line must be its header, {"format":"${FORMAT}",...})`);
  }
  const parsed = headerSchema.safeParse(value);
  if (!parsed.success) throw new DumpLineError(1, `header: ${describeIssue(parsed.error, '')}`);
  if (parsed.data.version > FORMAT_VERSION) {
    throw new DumpLineError(1, `export format version ${parsed.data.version} was written by a newer Poortwachter (this one reads up to ${FORMAT_VERSION}); import it with that version`);
  }
  return parsed.data as ExportHeader;
}

export interface DumpLine<K extends TransferType = TransferType> {
  type: K;
  record: TransferRecords[K];
}

export function isTransferType(value: unknown): value is TransferType {
  return typeof value === 'string' && Object.hasOwn(schemas, value);
}

/** The line's type and its record not yet checked: a new type ends the previous one first. */
export function parseRecordLine(line: number, text: string): { type: TransferType; record: unknown } {
  const value = parseJson(line, text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DumpLineError(line, 'not a JSON object');
  const { type, record, ...rest } = value as Record<string, unknown>;
  if (!isTransferType(type)) throw new DumpLineError(line, `unknown record type ${JSON.stringify(type)}`);
  if (Object.keys(rest).length) throw new DumpLineError(line, `unexpected field "${Object.keys(rest)[0]}" beside "type" and "record"`);
  return { type, record };
}

export function checkRecord<K extends TransferType>(line: number, type: K, record: unknown): TransferRecords[K] {
  const parsed = schemas[type].safeParse(record);
  if (!parsed.success) throw new DumpLineError(line, `${type}: ${describeIssue(parsed.error, 'record')}`);
  return parsed.data;
}

export function recordLine<K extends TransferType>(type: K, record: TransferRecords[K]): string {
  return JSON.stringify({ type, record });
}
