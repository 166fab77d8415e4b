// The audit trail is append-only: no code path changes or deletes an entry, except the documented
// ones (docs/architecture.md, "Audit log"): the retention job (`removeBefore`, only with
// AUDIT_RETENTION_DAYS set), erasure's pseudonymisation (`pseudonymise`, AVG art. 17: the entries
// stay, the subject's id becomes a keyed pseudonym) and an aborted MongoDB import taking back its
// own inserts. A new method or statement fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(path.join(ROOT, file)).isDirectory() ? sourceFiles(file) : file.endsWith('.ts') ? [file] : [];
  });
}

const ALLOWED_METHODS = ['append', 'list', 'pseudonymise', 'listOldestFirst', 'removeBefore', 'search'];

describe('the audit trail is append-only', () => {
  it('the store port offers no way to change or delete an entry but the two documented ones', () => {
    const port = read('src/store/port.ts');
    const body = /export interface AuditStore \{([\s\S]*?)\n\}/.exec(port)?.[1] ?? '';
    const methods = [...body.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
    expect(methods.sort()).toEqual([...ALLOWED_METHODS].sort());
  });

  it('the SQLite store has exactly one UPDATE and one DELETE of audit_events (erasure, retention)', () => {
    const statements = sourceFiles('src').flatMap((file) =>
      [...read(file).matchAll(/(UPDATE|DELETE FROM|REPLACE INTO|INSERT OR REPLACE INTO)\s+audit_events\b[^'`]*/gi)].map((m) => `${file}: ${m[0].trim()}`));
    expect(statements).toEqual([
      'src/store/sqlite/audit.ts: UPDATE audit_events SET account_id = ? WHERE account_id = ?',
      'src/store/sqlite/audit.ts: DELETE FROM audit_events WHERE at < ?',
    ]);
  });

  it('the MongoDB store changes audit documents in exactly those two places', () => {
    const writes = sourceFiles('src').flatMap((file) =>
      [...read(file).matchAll(/\baudit\.(updateOne|updateMany|replaceOne|deleteOne|deleteMany|findOneAndUpdate|findOneAndReplace|findOneAndDelete|bulkWrite)\(/g)].map((m) => `${file}: ${m[1]}`));
    // transfer.ts: an aborted `db import` into MongoDB takes back the events that very import
    // inserted (it has no transaction); it never touches an entry that was there before.
    expect(writes).toEqual(['src/store/mongo/audit.ts: updateMany', 'src/store/mongo/audit.ts: deleteMany', 'src/store/mongo/transfer.ts: deleteMany']);
  });

  it('no admin operation, route or command names an audit change', () => {
    const offenders = [...sourceFiles('src/admin'), ...sourceFiles('src/web')].filter((file) =>
      /audit\.(pseudonymise|removeBefore)|audit\/[^'"`]*\b(edit|delete|update)\b/.test(read(file)));
    expect(offenders).toEqual([]);
  });
});
