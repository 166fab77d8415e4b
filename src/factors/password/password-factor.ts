// Username (or e-mail) + password: the first factor, which also identifies the account.
// Unknown users and wrong passwords get the same answer and the same argon2 work.
import type { Factor, FactorContext, Form } from '../factor.ts';
import { PASSWORD_FAILURES, PASSWORD_FAILURES_PER_IP } from '../../accounts/limits.ts';

const MAX_LOGIN_LENGTH = 254;

function canonicalLogin(login: string): string {
  return login.normalize('NFKC').trim().toLowerCase();
}

async function verifyLogin(ctx: FactorContext, form: Form) {
  const { accounts, passwords, limits, audit } = ctx.services;
  // Re-authentication (before enrolling a factor): the account is known, only the password counts.
  const login = ctx.account ? ctx.account.username : (form.login ?? '').trim();
  const password = form.password ?? '';
  const errors: Record<string, string> = {};
  if (!login) errors.login = 'password.errors.login_required';
  if (!password) errors.password = 'password.errors.password_required';
  if (login.length > MAX_LOGIN_LENGTH) errors.login = 'password.errors.login_too_long';
  if (Object.keys(errors).length) return { kind: 'show', status: 400, locals: { errors, login: login.slice(0, MAX_LOGIN_LENGTH) } } as const;

  // Throttled by the login name typed, in the same canonical form the account lookup uses (so
  // `ｔarget` is `target`), so a locked unknown name looks like a locked real one; and by account, so
  // username and e-mail address share one count. Attempts are counted before the password is
  // checked: parallel guesses cannot all slip through a check made before any of them counted.
  const tooMany = { kind: 'show', status: 429, locals: { errors: { login: 'password.errors.too_many_attempts' }, login } } as const;
  const loginKey = `pwd-fail:login:${canonicalLogin(login)}`;
  const ipKey = `pwd-fail:ip:${ctx.ip ?? 'unknown'}`;
  if (await limits.exhausted(ipKey, PASSWORD_FAILURES_PER_IP)) return tooMany;
  if ((await limits.hit(loginKey, PASSWORD_FAILURES)) < 0) return tooMany;
  const account = await accounts.findByLogin(login);
  const accountKey = account ? `pwd-fail:acct:${account.id}` : undefined;
  if (accountKey && (await limits.hit(accountKey, PASSWORD_FAILURES)) < 0) return tooMany;
  const ok = await passwords.verify(account, password);
  if (!ok || !account) {
    // Per IP only failures count: a clinic behind one address has many honest logins.
    await limits.hit(ipKey, PASSWORD_FAILURES_PER_IP);
    await audit.record({ type: 'login.password.failed', accountId: account?.id ?? null, clientId: ctx.policy.clientId, ip: ctx.ip });
    return { kind: 'show', status: 401, locals: { errors: { login: 'password.errors.invalid_credentials' }, login } } as const;
  }
  if (account.status !== 'active') {
    // Only after a correct password, so a disabled account reveals nothing to a guesser.
    await audit.record({ type: 'login.password.disabled', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip });
    return { kind: 'fail', status: 403, messageKey: 'password.errors.account_disabled' } as const;
  }
  await limits.reset(loginKey);
  if (accountKey) await limits.reset(accountKey);
  await audit.record({ type: 'login.password.ok', accountId: account.id, clientId: ctx.policy.clientId, ip: ctx.ip });
  return {
    kind: 'proved',
    account,
    proof: { factor: 'password', amr: ['pwd'], strength: 1, at: ctx.services.clock.now() },
  } as const;
}

export const passwordFactor: Factor = {
  id: 'password',
  role: 'first',
  amr: ['pwd'],
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
