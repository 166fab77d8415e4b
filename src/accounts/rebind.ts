// One sealed value and the context it must be bound to (bound-secrets.ts): how it stands, and the
// re-seal of one stored record's value through a conditional write. The phone numbers
// (accounts.ts), the TOTP secrets (factors/totp/totp-binding.ts) and `db import`
// (admin/transfer/bind-imported.ts) share it; each says only where its value lives.
import type { SecretBox } from './secret-box.ts';

/**
 * What the re-seal found or did with one value: already bound, unbound (found while only
 * counting), re-sealed bound, not openable at all, or still changing after every attempt (the next
 * start tries again).
 */
export type Rebinding = 'current' | 'unbound' | 'rebound' | 'unreadable' | 'contended';

export type Standing = { state: 'current' } | { state: 'unbound'; value: string } | { state: 'unreadable' };

/** Whether `sealed` opens bound to `context`, or only unbound (empty context, or v1: its value), or not at all. */
export function standingOf(box: SecretBox, sealed: string, context: string): Standing {
  if (box.tryOpenBound(sealed, context) !== undefined) return { state: 'current' };
  const value = box.tryOpenUnbound(sealed);
  return value === undefined ? { state: 'unreadable' } : { state: 'unbound', value };
}

/** `sealed` as it must be stored: bound to `context` (re-sealed when it opens only unbound; as it is otherwise). */
export function boundForm(box: SecretBox, sealed: string, context: string): string {
  const standing = standingOf(box, sealed, context);
  return standing.state === 'unbound' ? box.seal(standing.value, context) : sealed;
}

/** Where one kind of record keeps its sealed value. */
export interface SealedField<R> {
  /** The sealed value; null when the record holds none. */
  sealedOf(record: R): string | null;
  contextOf(record: R): string;
  /** Writes `next` only while the record still holds `sealed`: false when it changed meanwhile. */
  replace(record: R, sealed: string, next: string): Promise<boolean>;
  /** The record as stored now; undefined when it is gone. */
  reread(record: R): Promise<R | undefined>;
}

const ATTEMPTS = 3;

/**
 * Re-seals the record's value bound when it opens only unbound; with `write` false it only says
 * what it would do. A value that changed since it was read (another process re-sealed it, a new
 * number) is read again, three times at most: idempotent, and nothing written meanwhile is lost.
 */
export async function rebindRecord<R>(box: SecretBox, read: R, field: SealedField<R>, write: boolean): Promise<Rebinding> {
  let record: R | undefined = read;
  for (let attempt = 0; attempt < ATTEMPTS && record; attempt += 1) {
    const sealed = field.sealedOf(record);
    if (sealed === null) return 'current';
    const context = field.contextOf(record);
    const standing = standingOf(box, sealed, context);
    if (standing.state !== 'unbound') return standing.state;
    if (!write) return 'unbound';
    if (await field.replace(record, sealed, box.seal(standing.value, context))) return 'rebound';
    record = await field.reread(record);
  }
  // The last read may be one another process just bound: only a value still unbound is contended.
  const last = record === undefined ? null : field.sealedOf(record);
  if (record === undefined || last === null || standingOf(box, last, field.contextOf(record)).state === 'current') return 'current';
  return 'contended';
}
