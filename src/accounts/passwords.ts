// The password credential: one per account, argon2id hash plus when it was set and, when some
// profile keeps a history, the hashes of the passwords before it (newest first; never plaintext).
// Beside it, at most one temporary password (ZINN, MTD: mailed by an operator), also only a hash,
// with its expiry. Kept in the accounts layer because the CLI, the login factor, the required
// actions and (later) recovery flows all set or check passwords.
import type { AccountRecord, CredentialRecord, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import { hashPassword, verifyPassword, decoyHash } from './password-hash.ts';
import { checkPassword, type PasswordPolicy, type PasswordProblem, type Personal } from './password-policy.ts';
import { randomId } from './random.ts';

export const PASSWORD_CREDENTIAL = 'password';
export const TEMPORARY_PASSWORD_CREDENTIAL = 'temporary-password';

interface PasswordData {
  hash: string;
  setAt: number;
  /** Earlier passwords' hashes, newest first, as many as the deepest history in use needs. */
  history?: string[];
  [key: string]: unknown;
}

export interface TemporaryPassword {
  issuedAt: number;
  expiresAt: number;
  /** The portal it was issued for (its name and sender were in the mail), if any. */
  clientId: string | null;
}

/**
 * What a typed password matched. `temporary-expired` is told apart (the patient gets "expired"
 * and a way onward, not "wrong"); only someone who has that mail can learn it.
 */
export type PasswordMatch = 'password' | 'temporary' | 'temporary-expired' | 'none';

export class PasswordProblemsError extends Error {
  constructor(readonly problems: PasswordProblem[]) {
    super(`password rejected: ${problems.join(', ')}`);
    this.name = 'PasswordProblemsError';
  }
}

function hashOf(credential: CredentialRecord | undefined): string | undefined {
  return typeof credential?.data.hash === 'string' ? credential.data.hash : undefined;
}

function historyOf(credential: CredentialRecord | undefined): string[] {
  const history = credential?.data.history;
  return Array.isArray(history) ? history.filter((h): h is string => typeof h === 'string') : [];
}

function temporaryOf(credential: CredentialRecord | undefined): (TemporaryPassword & { hash: string }) | undefined {
  const data = credential?.data;
  if (!data || typeof data.hash !== 'string' || typeof data.expiresAt !== 'number' || typeof data.issuedAt !== 'number') return undefined;
  return { hash: data.hash, issuedAt: data.issuedAt, expiresAt: data.expiresAt, clientId: typeof data.clientId === 'string' ? data.clientId : null };
}

export class Passwords {
  constructor(
    private readonly store: Store,
    private readonly policy: PasswordPolicy,
    private readonly clock: Clock,
  ) {}

  /** Problems under `rules` (the default profile when none are given); history is checked by `reused`. */
  check(account: Personal, password: string, rules: PasswordPolicy = this.policy): PasswordProblem[] {
    return checkPassword(rules, password, account);
  }

  /**
   * Sets a new password under `rules`, keeping the previous one's hash and the history before it
   * up to `keepHistory` earlier passwords. A pending temporary password ends here: it was only a
   * way to this moment.
   */
  async set(account: AccountRecord, password: string, options: { rules?: PasswordPolicy; keepHistory?: number } = {}): Promise<void> {
    const problems = this.check(account, password, options.rules);
    if (problems.length) throw new PasswordProblemsError(problems);
    const now = this.clock.now();
    const previous = await this.store.credentials.listByAccount(account.id, PASSWORD_CREDENTIAL);
    const keep = Math.max(0, options.keepHistory ?? 0);
    const before = [hashOf(previous[0]), ...historyOf(previous[0])].filter((h): h is string => h !== undefined).slice(0, keep);
    const data: PasswordData = { hash: await hashPassword(password), setAt: now, ...(before.length ? { history: before } : {}) };
    // The new credential is written before the old one goes, so a crash in between leaves the
    // patient with a working password rather than none.
    const credential: CredentialRecord = { id: randomId(), accountId: account.id, type: PASSWORD_CREDENTIAL, data, createdAt: now, lastUsedAt: null };
    await this.store.credentials.put(credential);
    for (const old of previous) await this.store.credentials.remove(old.id);
    await this.store.credentials.removeByAccount(account.id, TEMPORARY_PASSWORD_CREDENTIAL);
    // A new password ends every "remember this device": whoever had the old one may have them.
    await this.store.devices.removeByAccount(account.id);
  }

  /**
   * Whether `password` equals the current password or one of the `depth - 1` before it (a depth of
   * N: "niet gelijk aan de vorige N wachtwoorden", the current one included). 0 checks nothing.
   */
  async reused(account: AccountRecord, password: string, depth: number): Promise<boolean> {
    if (depth <= 0) return false;
    const [credential] = await this.store.credentials.listByAccount(account.id, PASSWORD_CREDENTIAL);
    const hashes = [hashOf(credential), ...historyOf(credential)].filter((h): h is string => h !== undefined).slice(0, depth);
    const matches = await Promise.all(hashes.map((hash) => verifyPassword(hash, password)));
    return matches.includes(true);
  }

  /** Whether the account has a password of its own (a temporary one does not count). */
  async has(account: AccountRecord): Promise<boolean> {
    const [credential] = await this.store.credentials.listByAccount(account.id, PASSWORD_CREDENTIAL);
    return hashOf(credential) !== undefined;
  }

  /**
   * Which password `password` is: the account's own, its temporary one (live or expired), or none.
   * Costs the same two argon2 verifications for every failure — unknown account, no temporary
   * password, wrong password — (decoy hashes stand in for what is missing), so neither the
   * account nor a pending temporary password shows in the timing. A match on the own password
   * stops after one.
   */
  async match(account: AccountRecord | undefined, password: string): Promise<PasswordMatch> {
    if (password.length > 4 * this.policy.maxLength) password = password.slice(0, 4 * this.policy.maxLength);
    const [own, temporary] = account
      ? await Promise.all([
        this.store.credentials.listByAccount(account.id, PASSWORD_CREDENTIAL).then((list) => hashOf(list[0])),
        this.store.credentials.listByAccount(account.id, TEMPORARY_PASSWORD_CREDENTIAL).then((list) => temporaryOf(list[0])),
      ])
      : [undefined, undefined];
    if ((await verifyPassword(own ?? (await decoyHash()), password)) && own !== undefined) return 'password';
    if ((await verifyPassword(temporary?.hash ?? (await decoyHash()), password)) && temporary !== undefined) {
      return temporary.expiresAt > this.clock.now() ? 'temporary' : 'temporary-expired';
    }
    return 'none';
  }

  /**
   * Verifies the password of `account` (its own or a live temporary one), or burns the same time
   * against decoy hashes when there is no account or no password, so the caller cannot be used
   * to enumerate users.
   */
  async verify(account: AccountRecord | undefined, password: string): Promise<boolean> {
    const match = await this.match(account, password);
    return account !== undefined && (match === 'password' || match === 'temporary');
  }

  /** Stores a temporary password's hash (replacing an earlier one); the own password stays. */
  async setTemporary(account: AccountRecord, password: string, temporary: TemporaryPassword): Promise<void> {
    const hash = await hashPassword(password);
    const credential: CredentialRecord = {
      id: randomId(),
      accountId: account.id,
      type: TEMPORARY_PASSWORD_CREDENTIAL,
      data: { hash, issuedAt: temporary.issuedAt, expiresAt: temporary.expiresAt, clientId: temporary.clientId },
      createdAt: temporary.issuedAt,
      lastUsedAt: null,
    };
    const previous = await this.store.credentials.listByAccount(account.id, TEMPORARY_PASSWORD_CREDENTIAL);
    await this.store.credentials.put(credential);
    for (const old of previous) await this.store.credentials.remove(old.id);
  }

  /** The pending temporary password (live or expired), without its hash. */
  async temporary(account: AccountRecord): Promise<TemporaryPassword | undefined> {
    const [credential] = await this.store.credentials.listByAccount(account.id, TEMPORARY_PASSWORD_CREDENTIAL);
    const found = temporaryOf(credential);
    return found && { issuedAt: found.issuedAt, expiresAt: found.expiresAt, clientId: found.clientId };
  }
}
