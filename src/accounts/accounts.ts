// Accounts: the patient's identity record. Phone numbers are sealed before they reach the store,
// bound to their account (phoneContext): someone who can write the database but lacks SECRETS_KEY
// cannot move a victim's number onto another account, nor theirs onto the victim's (where the
// victim's codes would then go to them). Only the last two digits stay readable, for the masked
// `*****16` hints.
import type { AccountRecord, AccountStatus, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { SecretBox } from './secret-box.ts';
import { randomId } from './random.ts';
import { rebindRecord, type Rebinding } from './rebind.ts';
import { accountLockKey } from './lockout.ts';

export interface NewAccount {
  username: string;
  email: string;
  /** E.164, already normalised by the caller. */
  phoneE164?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  locale?: string;
  emailVerified?: boolean;
  phoneVerified?: boolean;
}

export type AccountProblem = 'username_invalid' | 'email_invalid';

const USERNAME = /^[\p{L}\p{N}._@+-]{3,64}$/u;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validateNewAccount(input: NewAccount): AccountProblem[] {
  const problems: AccountProblem[] = [];
  if (!USERNAME.test(input.username)) problems.push('username_invalid');
  if (!EMAIL.test(input.email) || input.email.length > 254) problems.push('email_invalid');
  return problems;
}

/** What a phone number is sealed for: this account and no other. */
export function phoneContext(accountId: string): string {
  return `account-phone:${accountId}`;
}

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {}

  async create(input: NewAccount): Promise<AccountRecord> {
    const now = this.clock.now();
    const id = randomId(16);
    const record: AccountRecord = {
      id,
      username: input.username.normalize('NFKC'),
      email: input.email.trim(),
      emailVerified: input.emailVerified ?? false,
      phoneEncrypted: input.phoneE164 ? this.box.seal(input.phoneE164, phoneContext(id)) : null,
      phoneHint: input.phoneE164 ? input.phoneE164.slice(-2) : null,
      phoneVerified: input.phoneVerified ?? false,
      givenName: input.givenName ?? null,
      familyName: input.familyName ?? null,
      locale: input.locale ?? 'nl',
      status: 'active',
      settings: {},
      requiredActions: [],
      createdAt: now,
      updatedAt: now,
    };
    await this.store.accounts.create(record);
    return record;
  }

  findById(id: string): Promise<AccountRecord | undefined> {
    return this.store.accounts.findById(id);
  }

  findByLogin(login: string): Promise<AccountRecord | undefined> {
    const trimmed = login.normalize('NFKC').trim();
    if (!trimmed || trimmed.length > 254) return Promise.resolve(undefined);
    return this.store.accounts.findByLogin(trimmed);
  }

  list(): Promise<AccountRecord[]> {
    return this.store.accounts.list();
  }

  /**
   * The account's phone number, or null when it has none. A sealed value that does not open as
   * this account's (copied from another account, damaged, or sealed unbound after the start-up
   * re-seal) counts as no number: no code is sent to it, and the steps that need one say that
   * there is no number (the care provider sets a new one). Logged, without the value.
   */
  phoneOf(account: AccountRecord): string | null {
    if (!account.phoneEncrypted) return null;
    const phone = this.box.tryOpenBound(account.phoneEncrypted, phoneContext(account.id));
    if (phone !== undefined) return phone;
    this.logger?.warn({ accountId: account.id }, 'the sealed phone number of an account does not open as its own: treated as no number');
    return null;
  }

  /**
   * The start-up re-seal's step for one account: a phone number sealed unbound (by a version before
   * binding, or v1) is sealed again bound to the account. Idempotent: a bound value is left alone.
   * The write replaces only that field and only while it still holds what was read, so two
   * processes doing this at once, or a patient changing the number meanwhile, lose nothing.
   * Without `write` it only says what it would do.
   */
  rebindPhone(read: AccountRecord, write = true): Promise<Rebinding> {
    return rebindRecord(this.box, read, {
      sealedOf: (account) => account.phoneEncrypted,
      contextOf: (account) => phoneContext(account.id),
      replace: (account, sealed, next) => this.store.accounts.replaceSealedPhone(account.id, sealed, next),
      reread: (account) => this.store.accounts.findById(account.id),
    }, write);
  }

  async update(account: AccountRecord, changes: Partial<Omit<AccountRecord, 'id' | 'createdAt'>>): Promise<AccountRecord> {
    const next = { ...account, ...changes, updatedAt: this.clock.now() };
    await this.store.accounts.update(next);
    return next;
  }

  setPhone(account: AccountRecord, phoneE164: string | null, verified: boolean): Promise<AccountRecord> {
    return this.update(account, this.sealedPhone(account.id, phoneE164, verified));
  }

  /** The fields of account `accountId` that hold a phone number: sealed for that account, with its hint. */
  sealedPhone(accountId: string, phoneE164: string | null, verified: boolean): Pick<AccountRecord, 'phoneEncrypted' | 'phoneHint' | 'phoneVerified'> {
    return {
      phoneEncrypted: phoneE164 ? this.box.seal(phoneE164, phoneContext(accountId)) : null,
      phoneHint: phoneE164 ? phoneE164.slice(-2) : null,
      phoneVerified: phoneE164 ? verified : false,
    };
  }

  setStatus(account: AccountRecord, status: AccountStatus): Promise<AccountRecord> {
    return this.update(account, { status });
  }

  async remove(id: string): Promise<void> {
    await this.store.credentials.removeByAccount(id);
    await this.store.devices.removeByAccount(id);
    await this.store.codes.removeByAccount(id);
    await this.store.lockouts.remove(accountLockKey(id));
    await this.store.accounts.remove(id);
  }
}
