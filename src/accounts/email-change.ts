// Changing the account's e-mail address (the account console). The new address replaces the old
// one only when the link mailed to it is used: whoever asked must also hold the new mailbox, so a
// typo never moves the patient's notices and e-mail codes to a stranger. The link is a bearer
// secret in a mailbox: 256 random bits, only its SHA-256 kept (in the one-time code store, purpose
// `email-change`, so a new request voids the previous link), single use (compare-and-swap
// consume), short-lived (policy.accountPage.emailChangeLinkSeconds). The address it confirms waits
// on the account (`settings.pendingEmail`), so the link itself carries no address to tamper with.
// Opening the link shows a button; only the POST changes anything (mail scanners follow links).
import type { AccountRecord, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { randomId, safeEqual, sha256 } from './random.ts';

export const EMAIL_CHANGE_PURPOSE = 'email-change';
/** RFC 5321's limit on a path; real addresses are far shorter. */
const MAX_ADDRESS = 254;
// One @, something before and a dotted domain after, no spaces or angle brackets: what a patient
// types. Whether it exists is what the link proves.
const ADDRESS = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/u;

export type EmailChangeRefusal = 'invalid' | 'same' | 'expired';

export interface PendingEmail {
  address: string;
  expiresAt: number;
}

export function pendingEmailOf(account: AccountRecord, now: number): PendingEmail | undefined {
  const pending = account.settings.pendingEmail as Partial<PendingEmail> | undefined;
  if (!pending || typeof pending.address !== 'string' || typeof pending.expiresAt !== 'number' || pending.expiresAt <= now) return undefined;
  return { address: pending.address, expiresAt: pending.expiresAt };
}

/** The address as typed, trimmed; undefined when it cannot be an address. */
export function normaliseAddress(typed: string | undefined): string | undefined {
  const address = (typed ?? '').trim();
  return address.length <= MAX_ADDRESS && ADDRESS.test(address) ? address : undefined;
}

export class EmailChanges {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lifetimeSeconds: number,
  ) {}

  /**
   * Prepares the change: the secret for the link (to be mailed, never stored) and the account
   * with the address waiting. A previous link stops working.
   */
  async start(account: AccountRecord, address: string): Promise<{ secret: string; account: AccountRecord; expiresAt: number }> {
    const now = this.clock.now();
    const secret = randomId(32);
    const expiresAt = now + this.lifetimeSeconds * 1000;
    await this.store.codes.replace({ id: randomId(16), accountId: account.id, purpose: EMAIL_CHANGE_PURPOSE, flowId: null, codeHash: sha256(secret), attempts: 0, sentAt: now, expiresAt, consumedAt: null });
    const next: AccountRecord = { ...account, settings: { ...account.settings, pendingEmail: { address, expiresAt } }, updatedAt: now };
    await this.store.accounts.update(next);
    return { secret, account: next, expiresAt };
  }

  /** Whether the link is live (for the confirmation page): nothing is spent. */
  async check(account: AccountRecord, secret: string): Promise<PendingEmail | undefined> {
    const now = this.clock.now();
    const code = await this.store.codes.findActive(account.id, EMAIL_CHANGE_PURPOSE, now);
    const pending = pendingEmailOf(account, now);
    if (!code || !pending || !safeEqual(code.codeHash, sha256(secret))) return undefined;
    return pending;
  }

  /**
   * Spends the link and returns the address it confirms; undefined for an unknown, expired or
   * spent link (nothing changed). The caller writes the address (a taken one is refused there).
   */
  async redeem(account: AccountRecord, secret: string): Promise<PendingEmail | undefined> {
    const now = this.clock.now();
    const code = await this.store.codes.findActive(account.id, EMAIL_CHANGE_PURPOSE, now);
    const pending = pendingEmailOf(account, now);
    if (!code || !pending || !safeEqual(code.codeHash, sha256(secret))) return undefined;
    if (!(await this.store.codes.consume(code.id, now))) return undefined;
    return pending;
  }

  /** Voids a waiting address and its link, as a new request does; returns the account without it. */
  async cancel(account: AccountRecord): Promise<AccountRecord> {
    await this.store.codes.removeByAccount(account.id, EMAIL_CHANGE_PURPOSE);
    if (account.settings.pendingEmail === undefined) return account;
    const next: AccountRecord = { ...this.withoutPending(account), updatedAt: this.clock.now() };
    await this.store.accounts.update(next);
    return next;
  }

  /** The account without a waiting address (after the change, or when it was refused). */
  withoutPending(account: AccountRecord): AccountRecord {
    const { pendingEmail: _dropped, ...settings } = account.settings;
    return { ...account, settings };
  }
}
