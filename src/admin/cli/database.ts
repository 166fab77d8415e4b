// `poortwachter db migrate|export|import`: the database's schema, and moving a whole installation
// between stores (SQLite → MongoDB when a practice grows into a regional group).
import type { Command } from './command.ts';
import { CliError } from './errors.ts';
import { openStore } from '../../store/open.ts';
import { exportStore } from '../transfer/export.ts';
import { describeType, importStore, ImportFailedError, ImportRefusedError, type ImportReport } from '../transfer/import.ts';
import type { TransferType } from '../../store/port.ts';

const migrate: Command = {
  group: 'db',
  name: 'migrate',
  summary: 'Brings the database to the schema this version needs and reports its version.',
  options: {},
  details: [
    'MongoDB: creates the collections, indexes and TTL indexes and runs data migrations, recording',
    'each version in the schema_versions collection. Needed before the first start and after an',
    'upgrade when DB_MIGRATE=off (the production default); with DB_MIGRATE=auto the server does it',
    'at start. Safe to run while servers run, and more than once.',
    'SQLite: the file is migrated whenever Poortwachter opens it; this reports the version.',
  ],
  async run(ctx) {
    const { database } = ctx.config();
    const store = await openStore(database.kind === 'mongo' ? { ...database, migrate: 'auto' } : database);
    try {
      const { from, to } = await store.migrate();
      const human = from === to
        ? `Database schema is at version ${to} (${store.kind}); it was up to date.`
        : `Database migrated from schema version ${from} to ${to} (${store.kind}).`;
      ctx.out.result(human, { store: store.kind, from, to });
    } finally {
      await store.close();
    }
  },
};

const exportAll: Command = {
  group: 'db',
  name: 'export',
  summary: 'Writes the whole installation to stdout as JSON lines (for db import).',
  options: {
    'include-live': { type: 'boolean', description: 'also sessions, grants, tokens, flows in progress, codes sent and rate-limit counters' },
  },
  details: [
    'Accounts, factors (credentials), portals (clients), signing and cookie keys, remembered devices,',
    'lockouts and the audit trail; the first line is a header. Secrets stay sealed as stored, so the',
    'target needs the same SECRETS_KEY (the import checks it). Without --include-live every patient',
    'signs in again after the move and portals get new refresh tokens; with it, stop the servers',
    'first so nothing changes after the export. Example:',
    '  poortwachter db export > dump.jsonl',
    '  DATABASE_URL=mongodb://... poortwachter db import < dump.jsonl',
  ],
  async run(ctx, args) {
    const includeLive = args.flag('include-live');
    const { store, config, clock } = await ctx.services();
    const counts = await exportStore(store, config.secretsKey, { includeLive, now: clock.now() }, (line) => ctx.out.streamLine(line));
    await ctx.audit({ type: 'admin.db.exported', detail: { store: store.kind, live: includeLive, counts } });
    ctx.out.note(`Exported ${summary(counts)} from ${store.kind}.`);
  },
};

const importAll: Command = {
  group: 'db',
  name: 'import',
  summary: 'Reads an export (db export) from stdin into this database.',
  options: {
    merge: { type: 'boolean', description: 'import into a database that holds data: records whose id exists are kept as they are (and listed)' },
  },
  details: [
    'Refuses a database that is not empty unless --merge, and an export made with another',
    'SECRETS_KEY. Each type of record is imported whole or not at all (SQLite: one transaction per',
    'type; MongoDB: what was inserted of that type is deleted again). A bad line stops the import',
    'with its number; the types before it stay imported, so after fixing the file run it again',
    'with --merge. Example: poortwachter db import < dump.jsonl',
  ],
  async run(ctx, args) {
    const { store, config } = await ctx.services();
    let report: ImportReport;
    try {
      report = await importStore(store, config.secretsKey, ctx.stdin, { merge: args.flag('merge') });
    } catch (error) {
      if (error instanceof ImportRefusedError) throw new CliError(`import refused: ${error.message}`, [error.hint]);
      if (error instanceof ImportFailedError) {
        const done = summary(error.report.imported);
        throw new CliError(`import stopped: ${error.message}`, [
          done ? `Imported before the error (kept in the database): ${done}.` : 'Nothing was imported.',
          'Fix the file and run the import again with --merge: what is there is kept, the rest is added.',
        ]);
      }
      throw error;
    }
    await ctx.audit({ type: 'admin.db.imported', detail: { store: store.kind, from: report.header.source.store, merge: args.flag('merge'), counts: report.imported } });
    const keptLines = Object.entries(report.kept).map(([type, keys]) => `Kept ${keys.length} existing ${describeType(type as TransferType)}: ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', ...' : ''}`);
    ctx.out.result(
      [`Imported ${summary(report.imported) || 'nothing'} into ${store.kind} (export of ${report.header.createdAt}, from ${report.header.source.store}).`, ...keptLines],
      { store: store.kind, source: report.header.source, imported: report.imported, kept: report.kept },
    );
  },
};

function summary(counts: Partial<Record<TransferType, number>>): string {
  return Object.entries(counts).map(([type, count]) => `${count} ${describeType(type as TransferType)}`).join(', ');
}

export const databaseCommands: Command[] = [migrate, exportAll, importAll];
