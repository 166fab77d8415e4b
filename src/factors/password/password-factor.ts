// Username (or e-mail) + password: the first factor, which also identifies the account.
//
// No oracle: an unknown name, a locked account, a disabled account with a wrong password and a
// wrong password get the same page (status and body) and cost the same argon2 verification (a
// decoy hash when the real one is not evaluated). Only the per-IP limit answers differently, as it
// says nothing about any account.
import type { Factor, FactorContext, Form } from '../factor.ts';
import type { PasswordChangeReason } from '../../steps/step.ts';
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import { limitRule } from '../../accounts/limits.ts';
import { clientAddressKey } from '../../accounts/client-address.ts';
import type { Admission, LockEvent } from '../../accounts/lockout.ts';
import { sendLockNotice } from '../../accounts/lock-notice.ts';

const MAX_LOGIN_LENGTH = 254;

/** The mail goes out after the answer: waiting for SMTP would make a lock (and so an account) visible in the timing. */
function notifyLock(services: Services, account: AccountRecord, lock: LockEvent): void {
  sendLockNotice(services, account, lock).catch((error: Error) => {
    services.logger.warn({ err: error.message, accountId: account.id, lock: lock.kind }, 'lock notice not sent');
  });
}

async function recordLocks(ctx: FactorContext, account: AccountRecord | undefined, byName: Admission, byAccount: Admission | undefined): Promise<void> {
  const { audit } = ctx.services;
  const common = { accountId: account?.id ?? null, clientId: ctx.policy.clientId, ip: ctx.ip };
  if (byName.admitted && byName.lock) {
    await audit.record({ ...common, type: 'login.locked', detail: { scope: 'login-name', ...byName.lock, outcome: 'locked' } });
  }
  if (account && byAccount?.admitted && byAccount.lock) {
    const lock = byAccount.lock;
    await audit.record({ ...common, type: lock.kind === 'hard' ? 'login.hard_locked' : 'login.locked', detail: { scope: 'account', ...lock, outcome: 'locked' } });
    notifyLock(ctx.services, account, lock);
  }
}

/**
 * The portal's own password profile, checked against the password just typed (the only moment it
 * is known): one that no longer meets it must be replaced before this login goes on.
 */
async function portalProfileUnmet(ctx: FactorContext, account: AccountRecord, password: string): Promise<'portal_profile' | undefined> {
  const problems = await ctx.services.passwordLifecycle.portalProblems(account, password, ctx.policy.clientId);
  return problems.length ? 'portal_profile' : undefined;
}

async function verifyLogin(ctx: FactorContext, form: Form) {
  const { accounts, passwords, limits, lockout, audit, config } = ctx.services;
  // Re-authentication (before enrolling a factor): the account is known, only the password counts.
  const login = ctx.account ? ctx.account.username : (form.login ?? '').trim();
  const password = form.password ?? '';
  const errors: Record<string, string> = {};
  if (!login) errors.login = 'password.errors.login_required';
  if (!password) errors.password = 'password.errors.password_required';
  if (login.length > MAX_LOGIN_LENGTH) errors.login = 'password.errors.login_too_long';
  if (Object.keys(errors).length) return { kind: 'show', status: 400, locals: { errors, login: login.slice(0, MAX_LOGIN_LENGTH) } } as const;

  // Every limit counts the attempt before the password is evaluated: parallel guesses cannot all
  // slip through a check made before any of them was counted. Per IP only failures stay counted
  // (a clinic behind one address has many honest logins): a success gives its hit back. A client
  // is an IPv4 address or an IPv6 /64 (client-address.ts).
  const ipKey = `pwd-fail:ip:${clientAddressKey(ctx.ip)}`;
  if ((await limits.hit(ipKey, limitRule(config.policy.passwords.failuresPerIp))) < 0) {
    return { kind: 'show', status: 429, locals: { errors: { login: 'password.errors.too_many_attempts' }, login } } as const;
  }
  const account = await accounts.findByLogin(login);
  // Per typed name (so unknown names behave like real ones) and per account (so username and
  // e-mail address share one count and one hard cap).
  const byName = await lockout.admitLoginName(login);
  const byAccount = byName.admitted && account ? await lockout.admitAccount(account.id) : undefined;
  const evaluated = byName.admitted && (byAccount?.admitted ?? true);
  // Not evaluated: the same argon2 work against a decoy, so a lock does not show in the timing.
  // The own password and a temporary one cost the same whichever matched (passwords.ts `match`).
  const match = evaluated ? await passwords.match(account, password) : (await passwords.match(undefined, password), 'none');
  const ok = match === 'password' || match === 'temporary';
  if (!ok || !account) {
    // An expired temporary password is told apart (only whoever has that mail can learn it) and
    // counts as a failed guess like any other: it no longer proves anything.
    const expired = match === 'temporary-expired' && account !== undefined;
    await audit.record({
      type: 'login.password.failed',
      accountId: account?.id ?? null,
      clientId: ctx.policy.clientId,
      ip: ctx.ip,
      detail: { outcome: evaluated ? (expired ? 'temporary_expired' : 'wrong') : 'locked', evaluated },
    });
    await recordLocks(ctx, account, byName, byAccount);
    const errors = expired ? { password: 'password_change.expired.text' } : { login: 'password.errors.invalid_credentials' };
    return { kind: 'show', status: 401, locals: { errors, login } } as const;
  }
  await limits.release(ipKey);
  // The right password proves the patient, also on a disabled account: the count starts afresh.
  await lockout.succeeded(account, login);
  if (account.status !== 'active') {
    // Only after a correct password, so a disabled account reveals nothing to a guesser.
    await audit.record({ type: 'login.password.disabled', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip });
    return { kind: 'fail', status: 403, messageKey: 'password.errors.account_disabled' } as const;
  }
  const passwordChange: PasswordChangeReason | undefined = match === 'temporary' ? 'temporary' : await portalProfileUnmet(ctx, account, password);
  await audit.record({ type: 'login.password.ok', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip, detail: passwordChange ? { passwordChange } : {} });
  return {
    kind: 'proved',
    account,
    proof: { factor: 'password', amr: ['pwd'], strength: 1, at: ctx.services.clock.now() },
    ...(passwordChange ? { passwordChange } : {}),
  } as const;
}

export const passwordFactor: Factor = {
  id: 'password',
  role: 'first',
  positions: ['first'],
  strength: 1,
  view: 'factors/password',
  actions: ['verify'],
  enrollable: false,
  isEnrolled: async () => true,
  describe: async (_services, _account, t) => t('password.describe'),
  enter: async () => ({ kind: 'show' }),
  present: async () => ({}),
  async handle(ctx, action, form) {
    if (action !== 'verify') return { kind: 'show', status: 400 };
    return verifyLogin(ctx, form);
  },
};
