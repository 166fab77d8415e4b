// The password credential: one per account, argon2id hash plus when it was set. Kept in the
// accounts layer because the CLI, the login factor and (later) recovery flows all set passwords.
import type { AccountRecord, CredentialRecord, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { hashPassword, verifyPassword, decoyHash } from './password-hash.ts';
import { checkPassword, type PasswordPolicy, type PasswordProblem } from './password-policy.ts';
import { randomId } from './random.ts';

export const PASSWORD_CREDENTIAL = 'password';

interface PasswordData {
  hash: string;
  setAt: number;
  [key: string]: unknown;
}

export class PasswordProblemsError extends Error {
  constructor(readonly problems: PasswordProblem[]) {
    super(`password rejected: ${problems.join(', ')}`);
    this.name = 'PasswordProblemsError';
  }
}

export class Passwords {
  constructor(
    private readonly store: Store,
    private readonly policy: PasswordPolicy,
    private readonly clock: Clock,
  ) {}

  check(account: Pick<AccountRecord, 'username' | 'familyName' | 'givenName' | 'email'>, password: string): PasswordProblem[] {
    return checkPassword(this.policy, password, account);
  }

  async set(account: AccountRecord, password: string): Promise<void> {
    const problems = this.check(account, password);
    if (problems.length) throw new PasswordProblemsError(problems);
    const now = this.clock.now();
    const data: PasswordData = { hash: await hashPassword(password), setAt: now };
    await this.store.credentials.removeByAccount(account.id, PASSWORD_CREDENTIAL);
    const credential: CredentialRecord = { id: randomId(), accountId: account.id, type: PASSWORD_CREDENTIAL, data, createdAt: now, lastUsedAt: null };
    await this.store.credentials.put(credential);
    // A new password ends every "remember this device": whoever had the old one may have them.
    await this.store.devices.removeByAccount(account.id);
  }

  /**
   * Verifies the password of `account`, or burns the same time against a decoy hash when there
   * is no account or no password, so the caller cannot be used to enumerate users.
   */
  async verify(account: AccountRecord | undefined, password: string): Promise<boolean> {
    if (password.length > 4 * this.policy.maxLength) password = password.slice(0, 4 * this.policy.maxLength);
    const [credential] = account ? await this.store.credentials.listByAccount(account.id, PASSWORD_CREDENTIAL) : [];
    const hash = typeof credential?.data.hash === 'string' ? credential.data.hash : undefined;
    const ok = await verifyPassword(hash ?? (await decoyHash()), password);
    return ok && hash !== undefined;
  }
}
