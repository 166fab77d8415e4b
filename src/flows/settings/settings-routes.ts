// The patient's own settings (Minddistrict's "Twee-staps-authenticatie" page): which methods are
// set up, the default one, how long a device may be remembered, forget all devices, add or
// replace a method, and each factor's own settings part (e.g. new recovery codes). The patient
// signs in through the regular login flow first, via the internal account client.
import Router from '@koa/router';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { Sessions } from '../../oidc/sessions.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';
import type { SessionProofs } from '../../oidc/session-proofs.ts';
import { policyFromMetadata, SECOND_FACTORS, type PortalPolicy } from '../../oidc/client-policy.ts';
import { bindingAcr, shortfalls } from '../proof-rules.ts';
import { factorFacts } from '../factor-facts.ts';
import { afterBinding } from '../after-binding.ts';
import { sendSecurityNotice } from '../../accounts/security-notices.ts';
import { allFactors, findFactor } from '../../factors/registry.ts';
import type { Factor, FactorContext, FactorOutcome } from '../../factors/factor.ts';
import { REMEMBER_CHOICES, isRememberChoice, rememberChoiceOf } from '../../accounts/remembered-devices.ts';
import { randomId } from '../../accounts/random.ts';
import { render, pageState } from '../../web/render.ts';
import { messageLanguage } from '../../web/language.ts';
import { formBody, readForm } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import { Flows, csrfMatches, scratchOf, type Flow } from '../flow.ts';

interface SettingsState {
  scratch: Record<string, Record<string, unknown>>;
  /** Set while a method is being added: which factor, and whether recovery codes follow. */
  enrolling?: string;
  /**
   * Who started the enrolment in progress, and when: it may finish in this flow (the recovery
   * codes included) even though the new factor makes the session "too weak" for the page.
   */
  enrolment?: { sessionUid: string; startedAt: number; factor: string; replacing: boolean };
  notice?: string;
}

const LOGIN_STATE_COOKIE = 'pw_account_login';
/** ASVS 5.0 7.5.1: a sensitive change needs an authentication this recent. */
const SETTINGS_MAX_AGE_SECONDS = 600;

interface SignedIn {
  account: AccountRecord;
  sessionUid: string;
}

export function settingsRoutes(services: Services, sessions: Sessions, sessionProofs: SessionProofs): Router {
  const router = new Router();
  // Pages rendered after a POST switch language on the overview page itself.
  router.use((ctx, next) => {
    ctx.state.getUrl = '/account';
    return next();
  });
  const flows = new Flows(services.store, services.clock, services.config.ttl.flow);
  const issuer = () => services.config.issuer;

  /** Sends the patient through the regular login flow, back to /account/callback. */
  function redirectToLogin(ctx: Context, extra: Record<string, string> = {}): void {
    const state = randomId(16);
    // PKCE is required for this public client; the code is never redeemed (the settings page only
    // needs the session the login created), so the verifier is not kept.
    const challenge = createHash('sha256').update(randomId(32)).digest('base64url');
    ctx.cookies.set(LOGIN_STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/account', maxAge: 3600_000, signed: false });
    const url = new URL('/auth', issuer());
    const params = { client_id: ACCOUNT_CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: `${issuer()}/account/callback`, state, code_challenge: challenge, code_challenge_method: 'S256', ui_locales: pageState(ctx).lang, ...extra };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  async function enrolledSecondFactors(account: AccountRecord): Promise<Factor[]> {
    const enrolled = await Promise.all(allFactors().filter((f) => f.role === 'second').map(async (f) => ((await f.isEnrolled(services, account)) ? f : undefined)));
    return enrolled.filter((f): f is Factor => f !== undefined);
  }

  /**
   * The signed-in account, or a redirect to log in (again). Every page here binds or removes
   * authenticators, so it needs what binding needs (proof-rules.ts): a fresh proof of the
   * strongest factor the account has — the password for an account without a second factor —,
   * and a login at most ten minutes old (max_age, measured from the login as the portals' is: a
   * patient who needed eleven minutes for the login itself is not sent round again). A remembered
   * device never counts here. The login request carries the same demands (acr_values, max_age, a
   * client that forbids remembered devices), so oidc-provider's login-prompt checks judge the
   * session exactly as this does.
   */
  async function requireAccount(ctx: Context): Promise<SignedIn | undefined> {
    const session = await sessions.current(ctx);
    const account = session ? await services.accounts.findById(session.accountId) : undefined;
    if (!session || !account || account.status !== 'active') {
      redirectToLogin(ctx);
      return undefined;
    }
    const facts = await factorFacts(services, account);
    const needed = bindingAcr(facts);
    const record = await sessionProofs.findRecord(session.uid, account.id);
    const requirement = { policy: await accountPolicy(), requiredAcr: needed, maxAgeMs: SETTINGS_MAX_AGE_SECONDS * 1000 };
    if (shortfalls(record?.proofs ?? [], facts, requirement, services.clock.now(), record?.login).length > 0) {
      redirectToLogin(ctx, { acr_values: needed, max_age: String(SETTINGS_MAX_AGE_SECONDS) });
      return undefined;
    }
    return { account, sessionUid: session.uid };
  }

  /**
   * An enrolment in progress may finish in the flow that started it: the same session and account.
   * The page's demands were met when it started (requireAccount), and are not asked again: the new
   * factor itself makes the session "too weak" for the page, and — as max_age is measured from a
   * login's start — the time the patient takes is not held against them. Scanning a QR code,
   * finding the SMS and saving the recovery codes may take longer than ten minutes; a limit on
   * that sent the patient round the login and back to the start of the enrolment, every time. The
   * enrolment's secret lives in the flow, so the flow's lifetime (FLOW_TTL_SECONDS) bounds it.
   */
  async function requireEnrolling(ctx: Context, flowId: string): Promise<SignedIn | undefined> {
    const session = await sessions.current(ctx);
    const flow = await flows.byId<SettingsState>('settings', flowId);
    const started = flow?.state.enrolment;
    const own = session && flow && started && flow.state.enrolling && flow.accountId === session.accountId && started.sessionUid === session.uid
      && services.clock.now() - started.startedAt <= services.config.ttl.flow * 1000;
    if (own) {
      const account = await services.accounts.findById(session.accountId);
      if (account?.status === 'active') return { account, sessionUid: session.uid };
    }
    return requireAccount(ctx);
  }

  async function accountPolicy(): Promise<PortalPolicy> {
    const client = await services.store.clients.find(ACCOUNT_CLIENT_ID);
    return { ...policyFromMetadata(client?.metadata ?? { client_id: ACCOUNT_CLIENT_ID }), mfaMethods: [...SECOND_FACTORS] };
  }

  function factorContext(ctx: Context, flow: Flow<SettingsState>, account: AccountRecord, factor: Factor, policy: PortalPolicy): FactorContext {
    const page = pageState(ctx);
    return { services, policy, account, scratch: scratchOf(flow.state.scratch, factor.id), lang: page.lang, t: page.t, messageLang: messageLanguage(ctx, account.locale), ip: ctx.ip || null, flowId: flow.id };
  }

  async function loadFlow(ctx: Context, account: AccountRecord, form: Record<string, string>): Promise<Flow<SettingsState>> {
    const flow = await flows.byId<SettingsState>('settings', form.flow ?? '');
    if (!flow || flow.accountId !== account.id || !csrfMatches(flow, form._csrf)) throw new UserFacingError(403, 'errors.csrf');
    return flow;
  }

  async function showOverview(ctx: Context, account: AccountRecord, flow?: Flow<SettingsState>, status = 200): Promise<void> {
    const { t } = pageState(ctx);
    flow ??= await flows.create<SettingsState>('settings', { accountId: account.id, state: { scratch: {} } });
    const notice = flow.state.notice;
    flow.state.notice = undefined;
    await flows.save(flow);
    const own = new Set((await services.store.credentials.listByAccount(account.id)).map((c) => c.type));
    const methods = await Promise.all(allFactors().filter((f) => f.role === 'second').map(async (f) => ({
      id: f.id,
      enrolled: await f.isEnrolled(services, account),
      // Only a method with a credential of its own can be removed on its own (a phone call, for
      // one, comes with the SMS number and goes with it).
      removable: own.has(f.id),
      label: await f.describe(services, account, t),
      name: t(`settings.method.${f.id}`),
    })));
    const parts = (await Promise.all(allFactors().map(async (f) => {
      const summary = await f.settings?.summary(services, account, t);
      return summary ? { factor: f.id, ...summary } : undefined;
    }))).filter((p) => p !== undefined);
    const devices = await services.devices.list(account.id);
    render(ctx, 'flows/settings', {
      account: { username: account.username, email: account.email },
      csrf: flow.csrf,
      flowId: flow.id,
      notice,
      methods,
      defaultFactor: account.settings.defaultFactor,
      parts,
      rememberChoices: Object.keys(REMEMBER_CHOICES),
      rememberChoice: rememberChoiceOf(account),
      deviceCount: devices.length,
      logoutUrl: `/session/end?client_id=${ACCOUNT_CLIENT_ID}&post_logout_redirect_uri=${encodeURIComponent(`${issuer()}/account`)}`,
    }, status);
  }

  async function showEnrolment(ctx: Context, account: AccountRecord, flow: Flow<SettingsState>, factor: Factor, extra: Record<string, unknown> = {}, status = 200): Promise<void> {
    const policy = await accountPolicy();
    const locals = await factor.present(factorContext(ctx, flow, account, factor, policy), 'enrol');
    await flows.save(flow);
    render(ctx, factor.view, {
      mode: 'enrol',
      csrf: flow.csrf,
      action: (name: string) => `/account/enrol/${flow.id}/${name}`,
      chooseAction: '/account',
      abortAction: `/account/enrol/${flow.id}/cancel`,
      portal: undefined,
      account: { username: account.username },
      otherMethods: [],
      rememberAllowed: false,
      errors: {},
      ...locals,
      ...extra,
    }, status);
  }

  async function applyEnrolment(ctx: Context, account: AccountRecord, flow: Flow<SettingsState>, factor: Factor, outcome: FactorOutcome): Promise<void> {
    const { t } = pageState(ctx);
    if (outcome.kind === 'show') return showEnrolment(ctx, account, flow, factor, outcome.locals ?? {}, outcome.status ?? 200);
    if (outcome.kind === 'fail') return render(ctx, 'errors/message', { messageKey: outcome.messageKey }, outcome.status);
    await services.audit.record({ type: 'settings.factor_enrolled', accountId: account.id, ip: ctx.ip, detail: { factor: factor.id } });
    let fresh = account;
    if (factor.role === 'second') {
      // A replaced factor (new phone, new app) must not live on in a remembered device.
      await services.devices.forgetAll(account.id);
      fresh = await afterBinding(services, { before: account, factor, replaced: flow.state.enrolment?.replacing === true, portal: undefined });
    }
    flow.state.scratch = {};
    // After the first second factor, the recovery codes follow, as during a login.
    const recovery = allFactors().find((f) => f.role === 'recovery');
    if (factor.role === 'second' && recovery && !(await recovery.isEnrolled(services, fresh))) {
      flow.state.enrolling = recovery.id;
      const entered = await recovery.enter(factorContext(ctx, flow, fresh, recovery, await accountPolicy()), 'enrol');
      await flows.save(flow);
      if (entered.kind === 'show') return showEnrolment(ctx, fresh, flow, recovery, entered.locals ?? {});
    }
    // The notice names the method the patient set up, also when its recovery codes came last.
    const added = flow.state.enrolment?.factor ?? factor.id;
    flow.state.enrolling = undefined;
    flow.state.enrolment = undefined;
    flow.state.notice = t('settings.notice.enrolled', { method: t(`settings.method.${added}`) });
    await showOverview(ctx, fresh, flow);
  }

  type FormHandler = (ctx: Context, account: AccountRecord, flow: Flow<SettingsState>, form: Record<string, string>, signedIn: SignedIn) => Promise<void>;

  /**
   * Every settings form: a signed-in account, and the settings flow its CSRF token belongs to.
   * The forms of an enrolment in progress (flow id in the path) may finish it (requireEnrolling).
   */
  function accountForm(path: string, handler: FormHandler, flowFromPath = false): void {
    router.post(path, formBody(), async (ctx) => {
      const signedIn = flowFromPath ? await requireEnrolling(ctx, ctx.params.flow ?? '') : await requireAccount(ctx);
      if (!signedIn) return;
      const form = flowFromPath ? { ...readForm(ctx), flow: ctx.params.flow ?? '' } : readForm(ctx);
      await handler(ctx, signedIn.account, await loadFlow(ctx, signedIn.account, form), form, signedIn);
    });
  }

  router.get('/account', async (ctx) => {
    const signedIn = await requireAccount(ctx);
    if (signedIn) await showOverview(ctx, signedIn.account);
  });

  router.get('/account/callback', async (ctx) => {
    const expected = ctx.cookies.get(LOGIN_STATE_COOKIE, { signed: false });
    ctx.cookies.set(LOGIN_STATE_COOKIE, '', { path: '/account', maxAge: 0, signed: false });
    if (!expected || ctx.query.state !== expected) throw new UserFacingError(400, 'errors.bad_request');
    // No portal to go back to: say what happened and offer to sign in again.
    if (typeof ctx.query.error === 'string') {
      const cancelled = ctx.query.error === 'access_denied';
      render(ctx, 'flows/account-not-signed-in', { reason: cancelled ? 'cancelled' : 'failed' }, cancelled ? 200 : 403);
      return;
    }
    ctx.status = 303;
    ctx.redirect('/account');
  });

  accountForm('/account/remember', async (ctx, account, flow, form) => {
    if (!isRememberChoice(form.remember)) throw new UserFacingError(400, 'errors.bad_request');
    const updated = await services.accounts.update(account, { settings: { ...account.settings, rememberDevice: form.remember } });
    if (form.remember === 'none') await services.devices.forgetAll(account.id);
    flow.state.notice = pageState(ctx).t('settings.notice.saved');
    await showOverview(ctx, updated, flow);
  });

  accountForm('/account/forget-devices', async (ctx, account, flow) => {
    await services.devices.forgetAll(account.id);
    await services.audit.record({ type: 'settings.devices_forgotten', accountId: account.id, ip: ctx.ip });
    flow.state.notice = pageState(ctx).t('settings.notice.devices_forgotten');
    await showOverview(ctx, account, flow);
  });

  accountForm('/account/default-method', async (ctx, account, flow, form) => {
    const factor = findFactor(form.method ?? '');
    if (!factor || factor.role !== 'second' || !(await factor.isEnrolled(services, account))) throw new UserFacingError(400, 'errors.bad_request');
    const updated = await services.accounts.update(account, { settings: { ...account.settings, defaultFactor: factor.id } });
    flow.state.notice = pageState(ctx).t('settings.notice.saved');
    await showOverview(ctx, updated, flow);
  });

  accountForm('/account/remove-method', async (ctx, account, flow, form) => {
    const factor = findFactor(form.method ?? '');
    if (!factor || factor.role !== 'second' || (await services.store.credentials.listByAccount(account.id, factor.id)).length === 0) throw new UserFacingError(400, 'errors.bad_request');
    // Convention: a factor's credentials carry its id as type. Remembered devices may stand for
    // the removed factor, so they go too.
    await services.store.credentials.removeByAccount(account.id, factor.id);
    await services.devices.forgetAll(account.id);
    const remaining = await enrolledSecondFactors(account);
    if (remaining.length === 0) {
      // No second factor left: recovery codes and remembered devices would only weaken the account.
      for (const f of allFactors().filter((x) => x.role === 'recovery')) await services.store.credentials.removeByAccount(account.id, f.id);
      await services.devices.forgetAll(account.id);
    }
    await services.audit.record({ type: 'settings.factor_removed', accountId: account.id, ip: ctx.ip, detail: { factor: factor.id } });
    // Removing a method weakens the account as much as adding one may open it: the patient hears of both.
    sendSecurityNotice(services, account, { kind: 'method_removed', method: (t) => factor.describe(services, account, t) });
    flow.state.notice = pageState(ctx).t('settings.notice.removed', { method: pageState(ctx).t(`settings.method.${factor.id}`) });
    await showOverview(ctx, account, flow);
  });

  accountForm('/account/enrol', async (ctx, account, flow, form, signedIn) => {
    const factor = findFactor(form.method ?? '');
    if (!factor || factor.role !== 'second' || !factor.enrollable) throw new UserFacingError(400, 'errors.bad_request');
    flow.state.enrolling = factor.id;
    flow.state.enrolment = { sessionUid: signedIn.sessionUid, startedAt: services.clock.now(), factor: factor.id, replacing: await factor.isEnrolled(services, account) };
    flow.state.scratch = {};
    const outcome = await factor.enter(factorContext(ctx, flow, account, factor, await accountPolicy()), 'enrol');
    await flows.save(flow);
    await applyEnrolment(ctx, account, flow, factor, outcome);
  });

  accountForm('/account/enrol/:flow/:action', async (ctx, account, flow, form) => {
    const factor = findFactor(flow.state.enrolling ?? '');
    if (!factor) throw new UserFacingError(409, 'errors.not_found');
    if (ctx.params.action === 'cancel') {
      flow.state.enrolling = undefined;
      flow.state.enrolment = undefined;
      flow.state.scratch = {};
      return showOverview(ctx, account, flow);
    }
    if (!factor.actions.includes(ctx.params.action ?? '')) throw new UserFacingError(404, 'errors.not_found');
    const outcome = await factor.handle(factorContext(ctx, flow, account, factor, await accountPolicy()), ctx.params.action!, form, 'enrol');
    await flows.save(flow);
    await applyEnrolment(ctx, account, flow, factor, outcome);
  }, true);

  accountForm('/account/factor/:factor/:action', async (ctx, account, flow, form) => {
    const factor = findFactor(ctx.params.factor ?? '');
    if (!factor?.settings) throw new UserFacingError(404, 'errors.not_found');
    const result = await factor.settings.handle(factorContext(ctx, flow, account, factor, await accountPolicy()), ctx.params.action ?? '', form);
    await services.audit.record({ type: `settings.${factor.id}`, accountId: account.id, ip: ctx.ip, detail: { action: String(ctx.params.action).slice(0, 32) } });
    if (result.replaced) sendSecurityNotice(services, account, { kind: 'method_replaced', method: async (t) => t(`settings.method.${factor.id}`) });
    if (result.view) {
      await flows.save(flow);
      return render(ctx, result.view, { csrf: flow.csrf, flowId: flow.id, backUrl: '/account', ...result.locals });
    }
    flow.state.notice = result.notice;
    await showOverview(ctx, account, flow);
  });

  return router;
}
