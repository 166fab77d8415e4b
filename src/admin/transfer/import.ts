// Reads an export (format.ts) line by line and writes it into the store one type at a time: each
// type is one TransferImport (SQLite: one transaction), committed when the next type begins, so a
// bad line takes back the whole type it is in and nothing after it. Types committed before stay:
// the report names them, and running the import again with --merge keeps them and adds the rest.
import { createInterface } from 'node:readline';
import type { Store, TransferImport, TransferRecords, TransferType } from '../../store/port.ts';
import { DuplicateError } from '../../store/port.ts';
import { TRANSFER_TYPES } from '../../store/transfer.ts';
import { checkRecord, DumpLineError, parseHeader, parseRecordLine, secretsKeyCheck, type ExportHeader } from './format.ts';
import { recordsOf } from './export.ts';
import { SecretBox } from '../../accounts/secret-box.ts';
import { bindImported } from './bind-imported.ts';

const BATCH = 500;

export interface ImportReport {
  header: ExportHeader;
  imported: Partial<Record<TransferType, number>>;
  /** Keys of records that existed in the target and were kept as they were (--merge). */
  kept: Partial<Record<TransferType, string[]>>;
}

/** Refused before anything was written: wrong key, not empty, not an export. */
export class ImportRefusedError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'ImportRefusedError';
  }
}

/** Failed part-way: the type in progress was taken back; `report` says what was committed. */
export class ImportFailedError extends Error {
  constructor(message: string, readonly report: ImportReport, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'ImportFailedError';
  }
}

const PLURAL: Record<TransferType, string> = {
  account: 'accounts', credential: 'credentials', client: 'clients', setting: 'settings (keys)', device: 'remembered devices',
  'password-profile': 'password profiles', organisation: 'organisations', membership: 'organisation memberships',
  'admin-grant': 'admin roles', 'account-portal': 'portals of accounts',
  lockout: 'lockouts', audit: 'audit events', oidc: 'sessions and tokens', 'session-proof': 'session proofs', flow: 'flows',
  code: 'one-time codes', throttle: 'rate-limit counters',
};

export function describeType(type: TransferType): string {
  return PLURAL[type];
}

/** The types of which the store holds anything (the readiness probe's record does not count). */
export async function occupiedTypes(store: Store): Promise<TransferType[]> {
  const occupied: TransferType[] = [];
  for (const type of TRANSFER_TYPES) {
    for await (const record of recordsOf(store, type)) {
      void record;
      occupied.push(type);
      break;
    }
  }
  return occupied;
}

export async function importStore(
  store: Store,
  secretsKey: Buffer,
  input: NodeJS.ReadableStream,
  options: { merge: boolean },
): Promise<ImportReport> {
  const lines = createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
  let number = 0;
  const next = async (): Promise<string | undefined> => {
    const { value, done } = await lines.next();
    if (done) return undefined;
    number += 1;
    return value;
  };

  const first = await next();
  if (first === undefined || first.trim() === '') throw new ImportRefusedError('no export on stdin (the input is empty)', 'Usage: poortwachter db import < dump.jsonl');
  let header: ExportHeader;
  try {
    header = parseHeader(first);
  } catch (error) {
    if (error instanceof DumpLineError) throw new ImportRefusedError(error.message, 'Give the file written by `poortwachter db export`, unchanged');
    throw error;
  }
  if (header.secretsKeyCheck !== secretsKeyCheck(secretsKey)) {
    throw new ImportRefusedError(
      'this export was made with a different SECRETS_KEY: its TOTP secrets, phone numbers, signing keys and client secrets could not be opened here',
      'Run the import with the SECRETS_KEY of the installation the export came from',
    );
  }
  if (!options.merge) {
    const occupied = await occupiedTypes(store);
    if (occupied.length) {
      throw new ImportRefusedError(
        `the target database is not empty (it holds ${occupied.map(describeType).join(', ')})`,
        'Import into an empty database, or add --merge to keep what is there and add the rest (existing ids are kept and reported)',
      );
    }
  }

  const report: ImportReport = { header, imported: {}, kept: {} };
  // The export's key (checked above): binds phone numbers and TOTP secrets sealed unbound by older versions.
  const box = new SecretBox(secretsKey);
  let current: { type: TransferType; session: TransferImport<TransferType>; batch: TransferRecords[TransferType][]; firstLine: number } | undefined;

  const flush = async () => {
    if (!current || current.batch.length === 0) return;
    const { type, batch } = current;
    const lastLine = number;
    current.batch = [];
    try {
      const { kept } = await current.session.add(batch);
      report.imported[type] = (report.imported[type] ?? 0) + batch.length - kept.length;
      if (kept.length) (report.kept[type] ??= []).push(...kept);
    } catch (error) {
      if (error instanceof DuplicateError) {
        throw new DumpLineError(current.firstLine, `${type} records up to line ${lastLine}: a record's ${error.field} belongs to another record in the target`);
      }
      throw error;
    }
  };
  const finishType = async () => {
    if (!current) return;
    await flush();
    await current.session.commit();
    current = undefined;
  };

  try {
    for (let text = await next(); text !== undefined; text = await next()) {
      if (text.trim() === '') continue;
      const { type, record } = parseRecordLine(number, text);
      if (current?.type !== type) {
        const rank = TRANSFER_TYPES.indexOf(type);
        if (current && rank < TRANSFER_TYPES.indexOf(current.type)) {
          throw new DumpLineError(number, `${type} record after ${current.type} records (an export lists each type once, in the order ${TRANSFER_TYPES.join(', ')})`);
        }
        if (report.imported[type] !== undefined) throw new DumpLineError(number, `${type} records appear twice`);
        await finishType();
        current = { type, session: await store.transfer.begin(type), batch: [], firstLine: number };
        report.imported[type] = 0;
      }
      current.batch.push(bindImported(box, type, checkRecord(number, type, record)));
      if (current.batch.length >= BATCH) {
        await flush();
        current.firstLine = number + 1;
      }
    }
    await finishType();
  } catch (error) {
    const failed = current?.type;
    if (current) {
      await current.session.abort();
      delete report.imported[current.type];
      delete report.kept[current.type];
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new ImportFailedError(failed ? `${message}; no ${describeType(failed)} were imported` : message, report, { cause: error });
  }
  return report;
}
