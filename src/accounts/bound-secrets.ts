// The one-time re-seal that binds sealed per-account values to their owner. Versions before it
// sealed phone numbers and TOTP secrets with the empty context, so a sealed value copied onto
// another row opened there. Since, every read opens them bound only (no fallback to the empty
// context: that would keep the copy attack open), and this runs at start, before the server
// listens: each value still sealed unbound is opened once as such and sealed again for its owner.
//
// Every step reads what it finds and writes through a conditional update (a value that changed
// since it was read is looked at again), so processes starting together may all run it. A marker
// in the settings store lets later starts skip the scan. `db import` clears the marker when it
// adds accounts or credentials from an export that does not carry the marker (one from before
// binding holds unbound values), so the next start binds those too. As with the secrets-at-rest migration, processes of the older
// version must be stopped first: one still running would keep writing unbound values.
//
// Which values there are is passed in (the TOTP factor's part comes from factors/, which accounts/
// does not import).
import type { Store, AccountRecord } from '../store/port.ts';
import type { Logger } from '../log.ts';
import type { Accounts, Rebinding } from './accounts.ts';

export const BOUND_SECRETS_MARKER = 'bound-secrets';
const VERSION = 1;
const PAGE = 500;

interface Marker {
  version: number;
  at: string;
}

/** One kind of sealed value to bind: re-seals those still unbound, counts what it found. */
export type Rebinder = () => Promise<Record<Rebinding, number>>;

export type BindingReport = Record<string, Record<Rebinding, number>>;

/** The accounts' phone numbers, page by page in the store's stable order. */
export function phoneRebinder(store: Store, accounts: Accounts): Rebinder {
  return async () => {
    const counts: Record<Rebinding, number> = { current: 0, rebound: 0, unreadable: 0 };
    let after: AccountRecord | undefined;
    for (;;) {
      const page = await store.transfer.page('account', after, PAGE);
      for (const account of page) {
        if (account.phoneEncrypted) counts[await accounts.rebindPhone(account)] += 1;
      }
      if (page.length < PAGE) return counts;
      after = page.at(-1);
    }
  };
}

/** Runs the re-seal unless a start did already; the report, or undefined when skipped. */
export async function bindSealedSecrets(store: Store, rebinders: Record<string, Rebinder>, now: number, logger?: Logger): Promise<BindingReport | undefined> {
  const marker = await store.settings.get<Marker>(BOUND_SECRETS_MARKER);
  if (marker?.version === VERSION) return undefined;
  const report: BindingReport = {};
  for (const [name, rebind] of Object.entries(rebinders)) report[name] = await rebind();
  const unreadable = Object.values(report).reduce((sum, counts) => sum + counts.unreadable, 0);
  if (unreadable > 0) {
    // Damaged, or sealed with a SECRETS_KEY this process does not have: read as absent from now on.
    logger?.warn(report, 'some sealed phone numbers or TOTP secrets could not be opened to bind them to their owner');
  } else if (Object.values(report).some((counts) => counts.rebound > 0)) {
    logger?.info(report, 'bound the sealed phone numbers and TOTP secrets to their owner');
  }
  await store.settings.put(BOUND_SECRETS_MARKER, { version: VERSION, at: new Date(now).toISOString() } satisfies Marker);
  return report;
}

/** Whether a setting record (of an export) is the marker of an installation whose values are bound. */
export function isBoundMarker(setting: unknown): boolean {
  if (typeof setting !== 'object' || setting === null) return false;
  const { name, value } = setting as { name?: unknown; value?: unknown };
  return name === BOUND_SECRETS_MARKER && typeof value === 'object' && value !== null && (value as { version?: unknown }).version === VERSION;
}

/** After an import added accounts or credentials sealed unbound: the next start looks at every value again. */
export async function forgetBoundSecrets(store: Store, now: number): Promise<void> {
  await store.settings.put(BOUND_SECRETS_MARKER, { version: 0, at: new Date(now).toISOString() } satisfies Marker);
}
