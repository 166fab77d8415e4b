// Writes a whole installation as JSON lines (format.ts): the header, then every type in import
// order, each read page by page, so neither the store nor this process holds a whole type.
import type { Store, TransferRecords, TransferType } from '../../store/port.ts';
import { LIVE_TYPES, TRANSFER_TYPES } from '../../store/transfer.ts';
import { FORMAT, FORMAT_VERSION, recordLine, secretsKeyCheck, type ExportHeader } from './format.ts';

const PAGE = 500;

/**
 * Settings that belong to one running deployment, not to the installation: the readiness probe's
 * record (store/health-probe.ts) is rewritten by every process every few seconds.
 */
export const LOCAL_SETTINGS: ReadonlySet<string> = new Set(['readiness.probe']);

export function exportedTypes(includeLive: boolean): TransferType[] {
  return TRANSFER_TYPES.filter((type) => includeLive || !LIVE_TYPES.has(type));
}

/** Every record of `type` in the store's order, page by page; settings without the local ones. */
export async function* recordsOf<K extends TransferType>(store: Store, type: K): AsyncGenerator<TransferRecords[K]> {
  let after: TransferRecords[K] | undefined;
  for (;;) {
    const page = await store.transfer.page(type, after, PAGE);
    for (const record of page) {
      if (type === 'setting' && LOCAL_SETTINGS.has((record as TransferRecords['setting']).name)) continue;
      yield record;
    }
    if (page.length < PAGE) return;
    after = page.at(-1);
  }
}

export async function exportStore(
  store: Store,
  secretsKey: Buffer,
  options: { includeLive: boolean; now: number },
  write: (line: string) => Promise<void>,
): Promise<Partial<Record<TransferType, number>>> {
  const header: ExportHeader = {
    format: FORMAT,
    version: FORMAT_VERSION,
    createdAt: new Date(options.now).toISOString(),
    source: { store: store.kind, schemaVersion: (await store.schemaVersion()).current },
    secretsKeyCheck: secretsKeyCheck(secretsKey),
    live: options.includeLive,
  };
  await write(JSON.stringify(header));
  const counts: Partial<Record<TransferType, number>> = {};
  for (const type of exportedTypes(options.includeLive)) {
    let count = 0;
    for await (const record of recordsOf(store, type)) {
      await write(recordLine(type, record));
      count += 1;
    }
    counts[type] = count;
  }
  return counts;
}
