// Accounts: the patient's identity record. Phone numbers are sealed before they reach the store;
// only the last two digits stay readable, for the masked `*****16` hints.
import type { AccountRecord, AccountStatus, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from './secret-box.ts';
import { randomId } from './random.ts';
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

export class Accounts {
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  async create(input: NewAccount): Promise<AccountRecord> {
    const now = this.clock.now();
    const record: AccountRecord = {
      id: randomId(16),
      username: input.username.normalize('NFKC'),
      email: input.email.trim(),
      emailVerified: input.emailVerified ?? false,
      phoneEncrypted: input.phoneE164 ? this.box.seal(input.phoneE164) : null,
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

  phoneOf(account: AccountRecord): string | null {
    return account.phoneEncrypted ? this.box.open(account.phoneEncrypted) : null;
  }

  async update(account: AccountRecord, changes: Partial<Omit<AccountRecord, 'id' | 'createdAt'>>): Promise<AccountRecord> {
    const next = { ...account, ...changes, updatedAt: this.clock.now() };
    await this.store.accounts.update(next);
    return next;
  }

  setPhone(account: AccountRecord, phoneE164: string | null, verified: boolean): Promise<AccountRecord> {
    return this.update(account, this.sealedPhone(phoneE164, verified));
  }

  /** The account fields that hold a phone number: sealed, with its hint. */
  sealedPhone(phoneE164: string | null, verified: boolean): Pick<AccountRecord, 'phoneEncrypted' | 'phoneHint' | 'phoneVerified'> {
    return {
      phoneEncrypted: phoneE164 ? this.box.seal(phoneE164) : null,
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
