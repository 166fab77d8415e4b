// `poortwachter db ...` and `poortwachter audit ...`: reclaiming space, and exporting the audit
// trail before a retention limit (AUDIT_RETENTION_DAYS) deletes its oldest part.
import type { Command } from './command.ts';
import { formatTime } from './output.ts';

const vacuum: Command = {
  group: 'db',
  name: 'vacuum',
  summary: 'Gives the space of deleted rows back and rewrites the database file compactly.',
  options: {},
  details: [
    'The server gives free pages back by itself, a little every minute (SQLite incremental',
    'auto-vacuum). This rewrites the whole file at once: after a large clean-up, or once for a',
    'file created by a version without auto-vacuum. It holds the database for itself while it runs',
    '(seconds for a few hundred MB). Stop the servers first: a server still running stalls on every',
    'write meanwhile (its whole event loop, up to the 5 s lock timeout) and then answers 503',
    '"temporarily unavailable" until the rewrite is done. MongoDB: nothing to do here.',
  ],
  async run(ctx) {
    const { store } = await ctx.services();
    const started = Date.now();
    await store.compact();
    await ctx.audit({ type: 'admin.db.vacuumed', detail: { store: store.kind } });
    const seconds = (Date.now() - started) / 1000;
    ctx.out.result(`Database compacted (${store.kind}) in ${seconds.toFixed(1)} s.`, { store: store.kind, seconds });
  },
};

const PAGE = 1000;

const exportEvents: Command = {
  group: 'audit',
  name: 'export',
  summary: 'Writes the audit trail to stdout as JSON lines, oldest first.',
  options: {
    until: { type: 'string', value: 'DATE', description: 'only events before this moment (ISO 8601, e.g. 2026-01-01)' },
  },
  details: [
    'One JSON object per line (id, at as ISO 8601, type, account_id, client_id, ip, detail), with',
    'or without --json. Keep the export before lowering AUDIT_RETENTION_DAYS: events older than the',
    'limit are deleted by the server. Example:',
    '  poortwachter audit export --until 2026-01-01 > audit-until-2026.jsonl',
  ],
  async run(ctx, args) {
    const untilText = args.string('until');
    const until = untilText === undefined ? undefined : Date.parse(untilText);
    if (until !== undefined && Number.isNaN(until)) throw args.usage(`--until must be a date such as 2026-01-01 (got "${untilText}")`);
    const { store } = await ctx.services();
    let after: { at: number; id: string } | undefined;
    let count = 0;
    for (;;) {
      const page = await store.audit.listOldestFirst({ until, after, limit: PAGE });
      for (const e of page) {
        ctx.out.line(JSON.stringify({ id: e.id, at: new Date(e.at).toISOString(), type: e.type, account_id: e.accountId, client_id: e.clientId, ip: e.ip, detail: e.detail }));
      }
      count += page.length;
      const last = page.at(-1);
      if (!last || page.length < PAGE) break;
      after = { at: last.at, id: last.id };
    }
    ctx.out.note(`${count} audit events exported${until === undefined ? '' : ` (before ${formatTime(until)})`}.`);
  },
};

export const maintenanceCommands: Command[] = [vacuum, exportEvents];
