// HTTP routes of the settings kind: the patient's own /account page (Minddistrict's
// "Twee-staps-authenticatie" page): which methods are set up, the default one, how long a device
// may be remembered, forget all devices, add or replace a method (the kit's steps, under
// /account/enrol/:flow), and each factor's own settings part (e.g. new recovery codes). The patient
// signs in through the regular login flow first, via the internal account client.
import Router from '@koa/router';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { Sessions } from '../../oidc/sessions.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';
import type { SessionProofs } from '../../oidc/session-proofs.ts';
import { policyFromMetadata, type PortalPolicy } from '../../oidc/client-policy.ts';
import { bindingAcr, shortfalls } from '../../policy/proof-rules.ts';
import { allFactors, findFactor } from '../../factors/registry.ts';
import type { Factor } from '../../factors/factor.ts';
import { randomId } from '../../accounts/random.ts';
import { render, pageState } from '../../web/render.ts';
import { formBody, readForm } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import { csrfMatches } from '../kit/flow-store.ts';
import { factorFacts } from '../kit/factor-facts.ts';
import { FlowRunner } from '../kit/runner.ts';
import { flowRoutes, requireCsrf } from '../kit/routes.ts';
import { SETTINGS_KIND, SettingsKind, type SettingsRun, type SettingsState } from './settings-kind.ts';
import { portalRequiringMfa } from './portals-requiring-mfa.ts';

const LOGIN_STATE_COOKIE = 'pw_account_login';

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
  const kind = new SettingsKind(services);
  const runner = new FlowRunner(services, kind, kind.flows);
  const issuer = () => services.config.issuer;
  // ASVS 5.0 7.5.1: a sensitive change needs an authentication this recent (policy.accountPage).
  const { reauthenticationSeconds } = services.config.policy.accountPage;

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
   * authenticators, so it needs what binding needs (policy/proof-rules.ts): a fresh proof of the
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
    const requirement = { policy: await accountPolicy(), requiredAcr: needed, maxAgeMs: reauthenticationSeconds * 1000 };
    if (shortfalls(record?.proofs ?? [], facts, requirement, services.clock.now(), record?.login).length > 0) {
      redirectToLogin(ctx, { acr_values: needed, max_age: String(reauthenticationSeconds) });
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
   * enrolment's secret lives in the flow, so the flow's lifetime (policy.flows.ttlSeconds) bounds it.
   */
  async function requireEnrolling(ctx: Context, flowId: string): Promise<SignedIn | undefined> {
    const session = await sessions.current(ctx);
    const flow = await kind.flows.byId<SettingsState>(SETTINGS_KIND, flowId);
    const started = flow?.state.enrolment;
    const own = session && flow && started && flow.accountId === session.accountId && started.sessionUid === session.uid
      && services.clock.now() - started.startedAt <= services.config.policy.flows.ttlSeconds * 1000;
    if (own) {
      const account = await services.accounts.findById(session.accountId);
      if (account?.status === 'active') return { account, sessionUid: session.uid };
    }
    return requireAccount(ctx);
  }

  /**
   * The account client's policy, as for any portal: what it accepts is decided where every
   * portal's is (oidc/client-policy.ts); its metadata lists no methods, so it accepts them all.
   */
  async function accountPolicy(): Promise<PortalPolicy> {
    const client = await services.store.clients.find(ACCOUNT_CLIENT_ID);
    return policyFromMetadata(client?.metadata ?? { client_id: ACCOUNT_CLIENT_ID });
  }

  /** The settings flow a form belongs to: the signed-in account's own; another's, or none, is refused. */
  async function loadRun(ctx: Context, signedIn: SignedIn, flowId: string): Promise<SettingsRun> {
    const flow = await kind.flows.byId<SettingsState>(SETTINGS_KIND, flowId);
    if (!flow || flow.accountId !== signedIn.account.id) throw new UserFacingError(403, 'errors.csrf');
    return { ctx, flow, account: signedIn.account, sessionUid: signedIn.sessionUid, policy: await accountPolicy(), events: [] };
  }

  /** The forms of an enrolment in progress (the kit's step routes): the flow id is in the path. */
  async function loadEnrolling(ctx: Context): Promise<SettingsRun | undefined> {
    const signedIn = await requireEnrolling(ctx, ctx.params.flow ?? '');
    return signedIn && loadRun(ctx, signedIn, ctx.params.flow ?? '');
  }

  type FormHandler = (run: SettingsRun, form: Record<string, string>) => Promise<void>;

  /** Every overview form: a signed-in account, and the settings flow its CSRF token belongs to. */
  function accountForm(path: string, handler: FormHandler): void {
    router.post(path, formBody(), async (ctx) => {
      const signedIn = await requireAccount(ctx);
      if (!signedIn) return;
      const form = readForm(ctx);
      const run = await loadRun(ctx, signedIn, form.flow ?? '');
      if (!csrfMatches(run.flow, form._csrf)) throw new UserFacingError(403, 'errors.csrf');
      await handler(run, form);
    });
  }

  router.get('/account', async (ctx) => {
    const signedIn = await requireAccount(ctx);
    if (signedIn) await kind.overview(ctx, signedIn.account);
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

  accountForm('/account/remember', async (run, form) => {
    if (!services.devices.isChoice(form.remember)) throw new UserFacingError(400, 'errors.bad_request');
    const updated = await services.accounts.update(run.account, { settings: { ...run.account.settings, rememberDevice: form.remember } });
    if (form.remember === 'none') await services.devices.forgetAll(run.account.id);
    run.flow.state.notice = pageState(run.ctx).t('settings.notice.saved');
    await kind.overview(run.ctx, updated, run.flow);
  });

  accountForm('/account/forget-devices', async (run) => {
    run.events.push({ type: 'devices_forgotten' });
    await runner.dispatch(run);
    run.flow.state.notice = pageState(run.ctx).t('settings.notice.devices_forgotten');
    await kind.overview(run.ctx, run.account, run.flow);
  });

  accountForm('/account/default-method', async (run, form) => {
    const factor = findFactor(form.method ?? '');
    if (!factor || factor.role !== 'second' || !(await factor.isEnrolled(services, run.account))) throw new UserFacingError(400, 'errors.bad_request');
    const updated = await services.accounts.update(run.account, { settings: { ...run.account.settings, defaultFactor: factor.id } });
    run.flow.state.notice = pageState(run.ctx).t('settings.notice.saved');
    await kind.overview(run.ctx, updated, run.flow);
  });

  /**
   * Removing `factor` would leave no second factor while a portal the patient uses requires MFA:
   * refused (409) with the portal's name. `portals-requiring-mfa.ts` says how "uses" is known.
   */
  async function refuseLastSecondFactor(account: AccountRecord, factor: Factor): Promise<void> {
    const others = (await enrolledSecondFactors(account)).filter((f) => f.id !== factor.id);
    if (others.length > 0) return;
    const portal = await portalRequiringMfa(services, account.id);
    if (portal) throw new UserFacingError(409, 'settings.errors.last_second_factor', { portal });
  }

  accountForm('/account/remove-method', async (run, form) => {
    const { account } = run;
    const factor = findFactor(form.method ?? '');
    if (!factor || factor.role !== 'second' || (await services.store.credentials.listByAccount(account.id, factor.id)).length === 0) throw new UserFacingError(400, 'errors.bad_request');
    await refuseLastSecondFactor(account, factor);
    // Convention: a factor's credentials carry its id as type. Remembered devices may stand for
    // the removed factor, so they go too (the revoke hook).
    await services.store.credentials.removeByAccount(account.id, factor.id);
    const remaining = await enrolledSecondFactors(account);
    if (remaining.length === 0) {
      // No second factor left: recovery codes would only weaken the account.
      for (const f of allFactors().filter((x) => x.role === 'recovery')) await services.store.credentials.removeByAccount(account.id, f.id);
    }
    run.events.push({ type: 'factor_removed', factor: factor.id });
    await runner.dispatch(run);
    run.flow.state.notice = pageState(run.ctx).t('settings.notice.removed', { method: pageState(run.ctx).t(`settings.method.${factor.id}`) });
    await kind.overview(run.ctx, account, run.flow);
  });

  // Adding or replacing a method: the kit runs the factor's enrolment (and the recovery codes after it).
  accountForm('/account/enrol', async (run, form) => {
    const factor = findFactor(form.method ?? '');
    if (!factor || factor.role !== 'second' || !factor.enrollable) throw new UserFacingError(400, 'errors.bad_request');
    kind.reset(run.flow);
    run.flow.state.enrolling = factor.id;
    run.flow.state.enrolment = { sessionUid: run.sessionUid, startedAt: services.clock.now(), factor: factor.id, replacing: await factor.isEnrolled(services, run.account) };
    await runner.advance(run);
  });

  flowRoutes(router, '/account/enrol/:flow', runner, loadEnrolling, { methodChoice: false });

  router.post('/account/enrol/:flow/cancel', formBody(), async (ctx) => {
    const run = await loadEnrolling(ctx);
    if (!run) return;
    requireCsrf(run, readForm(ctx));
    kind.reset(run.flow);
    await kind.overview(ctx, run.account, run.flow);
  });

  // A factor's own page on /account (the passkeys: list, rename, remove), read-only until a form posts.
  router.get('/account/factor/:factor', async (ctx) => {
    const signedIn = await requireAccount(ctx);
    if (!signedIn) return;
    const factor = findFactor(ctx.params.factor ?? '');
    if (!factor?.settings) throw new UserFacingError(404, 'errors.not_found');
    const flow = await kind.create(signedIn.account);
    const run: SettingsRun = { ctx, flow, account: signedIn.account, sessionUid: signedIn.sessionUid, policy: await accountPolicy(), events: [] };
    const result = await factor.settings.handle(runner.stepContext(run, factor), 'view', {});
    if (!result.view) throw new UserFacingError(404, 'errors.not_found');
    await kind.flows.save(flow);
    render(ctx, result.view, { csrf: flow.csrf, flowId: flow.id, backUrl: '/account', ...result.locals }, result.status ?? 200);
  });

  accountForm('/account/factor/:factor/:action', async (run, form) => {
    const { account, ctx, flow } = run;
    const factor = findFactor(ctx.params.factor ?? '');
    if (!factor?.settings) throw new UserFacingError(404, 'errors.not_found');
    const action = ctx.params.action ?? '';
    const stepContext = runner.stepContext(run, factor);
    if (await factor.settings.removesLast?.(stepContext, action, form)) await refuseLastSecondFactor(account, factor);
    const result = await factor.settings.handle(stepContext, action, form);
    // New recovery codes are announced by mail like any replaced sign-in method (the notify hook);
    // a removed credential too, and remembered devices go with it (the revoke hook).
    run.events.push(result.removed ? { type: 'factor_removed', factor: factor.id } : { type: 'factor_setting', factor: factor.id, action, replaced: result.replaced === true });
    await runner.dispatch(run);
    if (result.view) {
      await kind.flows.save(flow);
      return render(ctx, result.view, { csrf: flow.csrf, flowId: flow.id, backUrl: '/account', ...result.locals }, result.status ?? 200);
    }
    flow.state.notice = result.notice;
    await kind.overview(ctx, account, flow);
  });

  return router;
}
