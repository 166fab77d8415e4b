// Paging cursors: opaque to clients, and signed (HMAC-SHA256 with a key derived from SECRETS_KEY),
// so a client cannot forge a position (a cursor is a position in one query, never a filter of its
// own) or move a cursor from one query to another: the query's filters are bound into the MAC.
// A cursor that does not verify is a 400, never a silently different page.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../../store/json.ts';
import { OperationError } from './errors.ts';

export class Cursors {
  private readonly key: Buffer;

  constructor(secretsKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', secretsKey, 'poortwachter', 'admin-paging-cursor', 32));
  }

  private mac(kind: string, query: unknown, body: string): Buffer {
    return createHmac('sha256', this.key).update(`${kind}\n${canonicalJson(query)}\n${body}`).digest();
  }

  /** `position` is what the store continues after; `query` the filters the page was read with. */
  sign(kind: string, query: unknown, position: Record<string, string | number>): string {
    const body = Buffer.from(JSON.stringify(position)).toString('base64url');
    return `${body}.${this.mac(kind, query, body).toString('base64url')}`;
  }

  open(kind: string, query: unknown, cursor: string): Record<string, unknown> {
    const refuse = () => new OperationError('invalid_input', 'the cursor is not valid for this query (take next_cursor of the previous page unchanged)', [{ field: 'cursor', message: 'invalid cursor' }]);
    const [body, mac, extra] = cursor.split('.');
    if (!body || !mac || extra !== undefined) throw refuse();
    const given = Buffer.from(mac, 'base64url');
    const expected = this.mac(kind, query, body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refuse();
    try {
      const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuse();
      return value as Record<string, unknown>;
    } catch {
      throw refuse();
    }
  }
}
