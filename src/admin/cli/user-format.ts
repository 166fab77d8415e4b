// How a user is shown to operators, and how a command finds one: shared by the user commands.
import type { AccountRecord } from '../../store/port.ts';
import type { LockStatus } from '../../accounts/lockout.ts';
import { accountView } from '../operations/accounts.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { formatTime } from './output.ts';

/**
 * The account as it may be shown (the phone number only as `*****16`): the admin operations' view
 * (one masking rule for CLI, API and console), without what the user table has no column for.
 */
export function userJson(account: AccountRecord) {
  const { required_actions: _actions, organisations: _organisations, updated_at: _updated, ...shown } = accountView(account, []);
  return shown;
}

/** A lock as the CLI's JSON shows it: the operations' view (one shape for CLI and API). */
export { lockView as lockJson } from '../operations/account-security.ts';

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
