// Entity tags for what an admin reads and then changes (a portal, an account): a strong tag over
// the representation, so an update carrying the tag of an older read is refused (412) instead of
// overwriting a change it never saw.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../store/json.ts';
import { OperationError } from './errors.ts';

export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(representation)).digest('base64url').slice(0, 32)}"`;
}

/** `ifMatch` undefined: no condition (the CLI; the API demands one itself). `*` matches any. */
export function checkIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (tags.includes('*') || tags.includes(current)) return;
  throw new OperationError('precondition_failed', 'the record changed since it was read (If-Match does not match its ETag); read it again');
}
