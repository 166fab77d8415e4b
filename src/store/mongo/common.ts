import { DuplicateError } from '../port.ts';

/** Case-insensitive, accent-sensitive: `Jörg` = `JÖRG`, but `Jörg` ≠ `Jorg`. */
export const CASE_INSENSITIVE = { locale: 'en', strength: 2 } as const;

/** Options every schema shares: our own ids, no `__v`, and `{}` kept as `{}` rather than dropped. */
export const SCHEMA_OPTIONS = { versionKey: false, minimize: false, id: false } as const;

/** TTL index option: MongoDB deletes a document once the Date in the indexed field has passed. */
export const TTL = { expireAfterSeconds: 0 } as const;

export function toDate(ms: number): Date;
export function toDate(ms: number | null): Date | null;
export function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

export function toMs(date: Date): number;
export function toMs(date: Date | null | undefined): number | null;
export function toMs(date: Date | null | undefined): number | null {
  return date ? date.getTime() : null;
}

// TTL deletion runs about once a minute, so every read filters expiry itself.

/** Matches documents whose `expiresAt` is still in the future. */
export function unexpired(now: number): { expiresAt: { $gt: Date } } {
  return { expiresAt: { $gt: new Date(now) } };
}

/** Like unexpired, but also matches documents that never expire (`expiresAt: null`). */
export function unexpiredOrPermanent(now: number): Record<string, unknown> {
  return { $or: [{ expiresAt: null }, unexpired(now)] };
}

/** A duplicate key error (E11000), e.g. from two upserts of the same new _id at once. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === 11000;
}

/**
 * Turns a duplicate key error (E11000) into the port's DuplicateError. `fields` maps the indexed
 * document path to the record field the caller knows (e.g. `_id` → `id`).
 */
export function asDuplicateError(error: unknown, fields: Readonly<Record<string, string>>): unknown {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== 11000) return error;
  const keyPattern = 'keyPattern' in error && typeof error.keyPattern === 'object' && error.keyPattern !== null
    ? Object.keys(error.keyPattern)
    : [];
  // Servers that leave out keyPattern still name the index in the message: "index: email_1 dup key".
  const message = 'message' in error && typeof error.message === 'string' ? error.message : '';
  const indexed = /index: (\w+?)_-?1\b/.exec(message)?.[1];
  const paths = indexed === undefined ? keyPattern : [...keyPattern, indexed];
  const field = paths.map((p) => fields[p]).find((f) => f !== undefined);
  return field === undefined ? error : new DuplicateError(field);
}
