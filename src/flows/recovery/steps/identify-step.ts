// "Wie bent u?": the user id (username or e-mail address) and the proof-of-work CAPTCHA.
//
// The answer is the same whether or not the account exists: the same page comes next, the same
// store work is done (an unknown name hits a decoy per-account counter), and nothing is mailed
// here. A typed name is kept only as a keyed hash. Without JavaScript there is no CAPTCHA to
// solve: such posts count against a stricter per-client budget instead (policy.recovery).
import type { Step, StepContext, StepOutcome, Form } from '../../../steps/step.ts';
import { limitRule } from '../../../accounts/limits.ts';
import { clientAddressKey } from '../../../accounts/client-address.ts';
import { canonicalLogin } from '../../../accounts/login-name-key.ts';
import { IDENTIFIED, IDENTIFY } from '../recovery-state.ts';
import { recoveryAudit } from '../recovery-audit.ts';

const MAX_LOGIN_LENGTH = 254;

function show(status: number, locals: Record<string, unknown>): StepOutcome {
  return { kind: 'show', status, locals };
}

async function identify(ctx: StepContext, form: Form): Promise<StepOutcome> {
  const { services } = ctx;
  const { limits, captcha, accounts, keyedHash, config } = services;
  const policy = config.policy.recovery;
  const login = (form.login ?? '').trim();
  const keep = { login: login.slice(0, MAX_LOGIN_LENGTH) };
  if (!login) return show(400, { errors: { login: 'forgot.errors.login_required' }, ...keep });
  if (login.length > MAX_LOGIN_LENGTH) return show(400, { errors: { login: 'forgot.errors.login_too_long' }, ...keep });

  const client = clientAddressKey(ctx.ip);
  const payload = form.altcha;
  if (payload === undefined || payload === '') {
    // No widget ran (no JavaScript, or a script skipping it): the stricter budget stands in for the work.
    if ((await limits.hit(`recovery-nojs:ip:${client}`, limitRule(policy.noScriptPerIp))) < 0) {
      await recoveryAudit(ctx, 'account-recovery.captcha_failed', undefined, { reason: 'no_script_limit', outcome: 'refused' });
      return show(429, { errors: { login: 'forgot.errors.too_many_no_script' }, ...keep });
    }
  } else {
    const check = await captcha.verify(payload);
    if (!check.ok) {
      await recoveryAudit(ctx, 'account-recovery.captcha_failed', undefined, { reason: check.reason, outcome: 'refused' });
      return show(400, { errors: { captcha: `forgot.errors.captcha_${check.reason === 'expired' ? 'expired' : 'failed'}` }, ...keep });
    }
  }
  if ((await limits.hit(`recovery:ip:${client}`, limitRule(policy.identifyPerIp))) < 0) {
    return show(429, { errors: { login: 'forgot.errors.too_many' }, ...keep });
  }
  const loginKey = keyedHash.of('recovery-login', canonicalLogin(login));
  if ((await limits.hit(`recovery:name:${loginKey}`, limitRule(policy.perLoginName))) < 0) {
    return show(429, { errors: { login: 'forgot.errors.too_many' }, ...keep });
  }
  const found = await accounts.findByLogin(login);
  // Unknown names cost the same store work as real ones; a spent per-account budget continues as
  // an unknown name would (it must not say that the account exists).
  const accountLeft = await limits.hit(`recovery:acct:${found?.id ?? `decoy:${loginKey}`}`, limitRule(policy.perAccount));
  const account = found && found.status === 'active' && accountLeft >= 0 ? found : undefined;
  ctx.flowScratch.set('loginKey', loginKey);
  await recoveryAudit(ctx, 'account-recovery.started', account, {
    outcome: account ? 'account' : found ? (accountLeft < 0 ? 'account_limit' : 'account_disabled') : 'unknown',
  });
  return { kind: 'proved', proof: { factor: IDENTIFIED, amr: [], strength: 1, at: services.clock.now() }, ...(account ? { account } : {}) };
}

export const identifyStep: Step = {
  id: IDENTIFY,
  view: 'flows/recovery/identify',
  actions: ['submit'],
  enter: async () => ({ kind: 'show' }),
  present: async (ctx) => ({ pageTitle: ctx.t('forgot.identify.title') }),
  handle: (ctx, _action, form) => identify(ctx, form),
};
