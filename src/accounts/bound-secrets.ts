// The one-time re-seal that binds sealed per-account values to their owner. Versions before it
// sealed phone numbers and TOTP secrets with the empty context, so a sealed value copied onto
// another row opened there. Since, every read opens them bound only (no fallback to the empty
// context: that would keep the copy attack open), and this runs at start, before the server
// listens (after the signing and cookie keys opened: proof that SECRETS_KEY is the right one):
// each value still sealed unbound is opened once as such and sealed again for its owner.
//
// A marker in the settings store, sealed with the box (so a database writer cannot forge it),
// records the state: 'binding' is written before the first re-seal write, 'done' once every value
// was looked at and written. A start that finds 'binding' (a crash, or a value that kept changing
// under the re-seal) goes on. A start that finds no marker (or one that does not open) first
// counts without writing: if any value already opens bound, the installation was bound before and
// the marker was removed — by someone who wants a value they planted unbound on a victim's row
// re-sealed as the victim's. Then nothing is re-sealed: the unbound values stay unreadable (their
// ids are logged; the care provider sets them again) and 'done' is written. Only an installation
// without any bound value (the first start of this version) re-seals.
//
// Every step reads what it finds and writes through a conditional update (a value that changed
// since it was read is looked at again), so processes starting together may all run it: one that
// counted after another had begun sees that one's 'binding' and joins it. `db import` binds what
// it imports itself (admin/transfer/import.ts), so a merge never needs this again. As with the
// secrets-at-rest migration, processes of the older version must be stopped first.
//
// Which values there are is passed in (the TOTP factor's part comes from factors/, which accounts/
// does not import).
import type { Store, TransferRecords } from '../store/port.ts';
import type { Logger } from '../log.ts';
import type { SecretBox } from './secret-box.ts';
import type { Accounts } from './accounts.ts';
import type { Rebinding } from './rebind.ts';

export const BOUND_SECRETS_MARKER = 'bound-secrets';
const MARKER_CONTEXT = 'bound-secrets';
const VERSION = 1;
const PAGE = 500;
/** How many ids of values that could not be bound a log line names: enough to start, never a flood. */
const SHOWN_IDS = 20;

export type BindingState = 'binding' | 'done';

export interface BoundMarker {
  version: number;
  state: BindingState;
  at: string;
}

/** Who a value belongs to (ids only, never the value): what an operator needs to find the patient. */
export type Owner = Record<string, string>;

/** What one kind of value held: counts, and the first owners of values that are not (yet) bound. */
export class Tally {
  readonly counts: Record<Rebinding, number> = { current: 0, unbound: 0, rebound: 0, unreadable: 0, contended: 0 };
  readonly owners: { unbound: Owner[]; unreadable: Owner[] } = { unbound: [], unreadable: [] };

  add(result: Rebinding, owner: Owner): void {
    this.counts[result] += 1;
    if ((result === 'unbound' || result === 'unreadable') && this.owners[result].length < SHOWN_IDS) this.owners[result].push(owner);
  }
}

/** One kind of sealed value: counts what it holds, and with `write` re-seals those still unbound. */
export type Rebinder = (write: boolean) => Promise<Tally>;

export type BindingReport = Record<string, Tally>;

/** The accounts' phone numbers, page by page in the store's stable order. */
export function phoneRebinder(store: Store, accounts: Accounts): Rebinder {
  return (write) => tallyRecords(store, 'account', async (account) => (account.phoneEncrypted ? [await accounts.rebindPhone(account, write), { accountId: account.id }] : undefined));
}

/**
 * Every record of `type`, page by page in the store's stable order (keyset paging: a large
 * installation is never read at once), tallied by `visit`: undefined for a record without a value
 * to bind.
 */
export async function tallyRecords<K extends 'account' | 'credential'>(store: Store, type: K, visit: (record: TransferRecords[K]) => Promise<[Rebinding, Owner] | undefined>): Promise<Tally> {
  const tally = new Tally();
  let after: TransferRecords[K] | undefined;
  for (;;) {
    const page = await store.transfer.page(type, after, PAGE);
    for (const record of page) {
      const seen = await visit(record);
      if (seen) tally.add(...seen);
    }
    if (page.length < PAGE) return tally;
    after = page.at(-1);
  }
}

/** The marker if it opens as one (sealed with this SECRETS_KEY, for this use); else undefined. */
export async function readBoundMarker(store: Store, box: SecretBox): Promise<BoundMarker | undefined> {
  const stored = await store.settings.get<unknown>(BOUND_SECRETS_MARKER);
  const sealed = typeof stored === 'object' && stored !== null ? (stored as { sealed?: unknown }).sealed : undefined;
  if (typeof sealed !== 'string') return undefined;
  const opened = box.tryOpenBound(sealed, MARKER_CONTEXT);
  if (opened === undefined) return undefined;
  try {
    const marker = JSON.parse(opened) as Partial<BoundMarker>;
    if (marker.version === VERSION && (marker.state === 'binding' || marker.state === 'done')) return marker as BoundMarker;
  } catch {
    // Not JSON: not a marker.
  }
  return undefined;
}

export async function writeBoundMarker(store: Store, box: SecretBox, state: BindingState, now: number): Promise<void> {
  const marker: BoundMarker = { version: VERSION, state, at: new Date(now).toISOString() };
  await store.settings.put(BOUND_SECRETS_MARKER, { sealed: box.seal(JSON.stringify(marker), MARKER_CONTEXT) });
}

async function runAll(rebinders: Record<string, Rebinder>, write: boolean): Promise<BindingReport> {
  const report: BindingReport = {};
  for (const [name, rebind] of Object.entries(rebinders)) report[name] = await rebind(write);
  return report;
}

function total(report: BindingReport, result: Rebinding): number {
  return Object.values(report).reduce((sum, tally) => sum + tally.counts[result], 0);
}

/** The report as a log object: counts and owners per kind. */
function logged(report: BindingReport): Record<string, unknown> {
  return Object.fromEntries(Object.entries(report).map(([name, tally]) => [name, { ...tally.counts, ...tally.owners }]));
}

/** Runs the re-seal unless a start finished it; the report, or undefined when skipped. */
export async function bindSealedSecrets(store: Store, box: SecretBox, rebinders: Record<string, Rebinder>, now: number, logger?: Logger): Promise<BindingReport | undefined> {
  const marker = await readBoundMarker(store, box);
  if (marker?.state === 'done') return undefined;
  if (!marker) {
    const survey = await runAll(rebinders, false);
    // A process that started with us may have begun meanwhile: its 'binding' came before its first write.
    const since = await readBoundMarker(store, box);
    if (since?.state === 'done') return undefined;
    if (total(survey, 'current') > 0 && since?.state !== 'binding') {
      if (total(survey, 'unbound') + total(survey, 'unreadable') > 0) {
        logger?.warn(logged(survey), 'the marker of bound phone numbers and TOTP secrets was missing while values were bound already: values sealed unbound are not re-sealed and stay unreadable (set them again for these accounts)');
      }
      await writeBoundMarker(store, box, 'done', now);
      return survey;
    }
  }
  await writeBoundMarker(store, box, 'binding', now);
  const report = await runAll(rebinders, true);
  if (total(report, 'unreadable') > 0) {
    // Damaged, or sealed with a SECRETS_KEY this process does not have: read as absent from now on.
    logger?.warn(logged(report), 'some sealed phone numbers or TOTP secrets could not be opened to bind them to their owner');
  } else if (total(report, 'rebound') > 0) {
    logger?.info(logged(report), 'bound the sealed phone numbers and TOTP secrets to their owner');
  }
  if (total(report, 'contended') > 0) {
    // Kept changing under the re-seal: the marker stays 'binding', so the next start looks again.
    logger?.warn(logged(report), 'some sealed values changed while being bound: the next start binds them');
    return report;
  }
  await writeBoundMarker(store, box, 'done', now);
  return report;
}
