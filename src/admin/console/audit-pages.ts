// The audit log in the console: a filter form (account, actor, event type, portal, time), newest
// first with the operation's signed cursors, and the same filter as a CSV download (the export
// operation). Read only, like the operations beneath it.
import type { Context } from 'koa';
import { Readable } from 'node:stream';
import type { AdminOperations } from '../operations/index.ts';
import { show, showRefusal, type ConsolePages } from './console-kit.ts';

const FILTERS = ['account_id', 'actor', 'type', 'client_id', 'from', 'until'] as const;

/**
 * The filter as the operation takes it. The form's time fields (datetime-local, no zone) are read
 * as UTC, as the page says; a value that is no time is handed on as typed, so the operation
 * refuses it (400) rather than the console guessing.
 */
function filterOf(ctx: Context): { filter: Record<string, string>; values: Record<string, string> } {
  const filter: Record<string, string> = {};
  const values: Record<string, string> = {};
  for (const name of FILTERS) {
    const raw = ctx.query[name];
    const value = typeof raw === 'string' ? raw.trim() : '';
    if (!value) continue;
    values[name] = value;
    filter[name] = (name === 'from' || name === 'until') && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : value;
  }
  return { filter, values };
}

export function auditPages(pages: ConsolePages, operations: AdminOperations): void {
  pages.page('/admin/audit', async (ctx, admin) => {
    const { filter, values } = filterOf(ctx);
    const cursor = typeof ctx.query.cursor === 'string' && ctx.query.cursor ? ctx.query.cursor : undefined;
    const found = await operations.audit.search(admin.actor, { ...filter, ...(cursor ? { cursor } : {}), limit: '50' });
    const query = new URLSearchParams(values).toString();
    show(ctx, admin, 'audit', { values, found, query });
  });

  pages.page('/admin/audit.csv', async (ctx, admin) => {
    const { filter } = filterOf(ctx);
    // The first row is read before answering: a refused filter is a message page, not a broken download.
    const rows = operations.audit.exportCsv(admin.actor, filter);
    let first: IteratorResult<string>;
    try {
      first = await rows.next();
    } catch (error) {
      showRefusal(ctx, admin, error);
      return;
    }
    async function* all() {
      if (!first.done) yield first.value;
      yield* rows;
    }
    ctx.status = 200;
    ctx.type = 'text/csv; charset=utf-8; header=present';
    ctx.set('Content-Disposition', 'attachment; filename="audit.csv"');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = Readable.from(all());
  });
}
