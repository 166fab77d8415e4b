// How a user is shown to operators, and how a command finds one: shared by the user commands.
import type { AccountRecord } from '../../store/port.ts';
import type { LockStatus } from '../../accounts/lockout.ts';
import { maskPhone } from '../../log.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { formatTime } from './output.ts';

/** The account as it may be shown: the phone number only as `*****16`. */
export function userJson(account: AccountRecord) {
  return {
    id: account.id,
    username: account.username,
    email: account.email,
    email_verified: account.emailVerified,
    phone: account.phoneHint ? maskPhone(account.phoneHint) : null,
    phone_verified: account.phoneVerified,
    given_name: account.givenName,
    family_name: account.familyName,
    locale: account.locale,
    status: account.status,
    created_at: new Date(account.createdAt).toISOString(),
  };
}

export function lockJson(lock: LockStatus) {
  return {
    state: lock.state,
    locked_until: lock.lockedUntil === null ? null : new Date(lock.lockedUntil).toISOString(),
    failures: lock.failures,
    locks: lock.locks,
  };
}

/** `open`, `locked until 2026-05-04 13:07 UTC`, `hard-locked`: one cell for people. */
export function lockText(lock: LockStatus): string {
  if (lock.state === 'locked' && lock.lockedUntil !== null) return `locked until ${formatTime(lock.lockedUntil)}`;
  return lock.state;
}

export async function findUser(ctx: CliContext, username: string): Promise<AccountRecord> {
  const { accounts } = await ctx.services();
  const account = await accounts.findByLogin(username);
  if (!account) throw new CliError(`no user ${username} (see: poortwachter user list)`);
  return account;
}
