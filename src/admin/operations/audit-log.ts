// The audit log for admins: filter by account, actor, event type, portal and time, newest first
// with signed cursors, and an RFC 4180 CSV export. Read only: there is no operation (and no store
// method) that changes or deletes an entry; the retention job is the one documented exception.
import type { AuditEvent, AuditSearch } from '../../store/port.ts';
import type { Actor } from './actor.ts';
import { requirePermission } from './access.ts';
import type { AccountOperations } from './accounts.ts';
import type { AdminDeps } from './context.ts';
import { OperationError } from './errors.ts';
import { csvRow } from './csv.ts';
import { AuditQuery } from './schemas.ts';
import { parseInput } from './validate.ts';

export interface AuditEntryView {
  id: string;
  at: string;
  type: string;
  outcome: string | null;
  actor: string | null;
  on_behalf_of: string[] | null;
  account_id: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown>;
}

export function auditEntryView(event: AuditEvent): AuditEntryView {
  const outcome = event.detail.outcome;
  const onBehalf = event.detail.on_behalf_of;
  return {
    id: event.id,
    at: new Date(event.at).toISOString(),
    type: event.type,
    outcome: typeof outcome === 'string' ? outcome : null,
    actor: event.actor,
    on_behalf_of: Array.isArray(onBehalf) ? onBehalf.map(String) : null,
    account_id: event.accountId,
    client_id: event.clientId,
    ip: event.ip,
    user_agent: event.userAgent,
    detail: event.detail,
  };
}

/** NEN 7513's fields first (docs/architecture.md, "NEN 7513"), then the rest as JSON. */
export const CSV_COLUMNS = ['at', 'type', 'outcome', 'actor', 'on_behalf_of', 'account_id', 'client_id', 'ip', 'user_agent', 'id', 'detail'] as const;
const EXPORT_PAGE = 500;

export class AuditLogOperations {
  constructor(
    private readonly deps: AdminDeps,
    private readonly accounts: AccountOperations,
  ) {}

  private filterOf(input: AuditQuery): Omit<AuditSearch, 'limit' | 'before'> {
    const time = (value: string | undefined) => (value === undefined ? undefined : Date.parse(value));
    return {
      ...(input.account_id ? { accountId: input.account_id } : {}),
      ...(input.actor ? { actor: input.actor } : {}),
      ...(input.type ? { type: input.type } : {}),
      ...(input.client_id ? { clientId: input.client_id } : {}),
      ...(input.from ? { from: time(input.from) } : {}),
      ...(input.until ? { until: time(input.until) } : {}),
    };
  }

  private async page(kind: string, filter: Omit<AuditSearch, 'limit' | 'before'>, input: AuditQuery): Promise<{ items: AuditEntryView[]; next_cursor: string | null }> {
    let before: AuditSearch['before'];
    if (input.cursor) {
      const position = this.deps.cursors.open(kind, filter, input.cursor);
      if (typeof position.a !== 'number' || typeof position.i !== 'string') throw new OperationError('invalid_input', 'invalid cursor', [{ field: 'cursor', message: 'invalid cursor' }]);
      before = { at: position.a, id: position.i };
    }
    const found = await this.deps.services.store.audit.search({ ...filter, before, limit: input.limit + 1 });
    const items = found.slice(0, input.limit);
    const last = items.at(-1);
    return {
      items: items.map(auditEntryView),
      next_cursor: found.length > input.limit && last ? this.deps.cursors.sign(kind, filter, { a: last.at, i: last.id }) : null,
    };
  }

  /** The whole log (operators, auditors, API clients with admin:audit). */
  async search(actor: Actor, query: unknown): Promise<{ items: AuditEntryView[]; next_cursor: string | null }> {
    requirePermission(actor, 'audit:read');
    const input = parseInput(AuditQuery, query);
    return this.page('audit', this.filterOf(input), input);
  }

  /** One account's trail: whoever may see the account (a practice: its own accounts). */
  async accountTrail(actor: Actor, accountId: string, query: unknown): Promise<{ items: AuditEntryView[]; next_cursor: string | null }> {
    requirePermission(actor, 'accounts:read');
    await this.accounts.load(actor, accountId);
    const input = parseInput(AuditQuery.omit({ account_id: true }), query);
    return this.page('account-audit', { ...this.filterOf({ ...input, account_id: accountId }) }, { ...input, account_id: accountId });
  }

  /** The filtered log as CSV, newest first, in pages (never the whole log in memory). */
  async *exportCsv(actor: Actor, query: unknown): AsyncGenerator<string> {
    requirePermission(actor, 'audit:read');
    const input = parseInput(AuditQuery.omit({ cursor: true, limit: true }), query);
    const filter = this.filterOf({ ...input, limit: EXPORT_PAGE });
    yield csvRow(CSV_COLUMNS);
    let before: AuditSearch['before'];
    for (;;) {
      const events = await this.deps.services.store.audit.search({ ...filter, before, limit: EXPORT_PAGE });
      for (const event of events) {
        const view = auditEntryView(event);
        yield csvRow(CSV_COLUMNS.map((column) => (column === 'on_behalf_of' ? view.on_behalf_of?.join(' ') ?? '' : view[column])));
      }
      const last = events.at(-1);
      if (!last || events.length < EXPORT_PAGE) return;
      before = { at: last.at, id: last.id };
    }
  }
}
