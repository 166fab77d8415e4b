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
import type { AccountSessions } from '../../oidc/account-sessions.ts';
import { NEW_ADDRESS_HINT } from '../../steps/step.ts';
import { EmailChanges, normaliseAddress } from '../../accounts/email-change.ts';
import { sendSecurityNotice } from '../../accounts/security-notices.ts';
import { DuplicateError } from '../../store/port.ts';
import { maskMail } from '../../delivery/index.ts';
import { renderMail } from '../../delivery/mail-render.ts';
import { translator, isLanguage, DEFAULT_LANGUAGE } from '../../i18n/i18n.ts';
import { noteReturnLink, returnLinkOf } from './return-link.ts';
import { limitRule } from '../../accounts/limits.ts';
import { mailSignature } from '../../brand/mail-signature.ts';
import { portalRequiringMfa } from './portals-requiring-mfa.ts';
import { PASSWORD_PAGE, PasswordPage } from './password-page.ts';

const LOGIN_STATE_COOKIE = 'pw_account_login';

interface SignedIn {
  account: AccountRecord;
  sessionUid: string;
}

export function settingsRoutes(services: Services, sessions: Sessions, sessionProofs: SessionProofs, accountSessions: AccountSessions): Router {
  const router = new Router();
  // Pages rendered after a POST switch language on the overview page itself.
  router.use((ctx, next) => {
    ctx.state.getUrl = '/account';
    return next();
  });
  const kind = new SettingsKind(services, accountSessions, (ctx) => returnLinkOf(services, ctx));
  const emailChanges = new EmailChanges(services.store, services.clock, services.config.policy.accountPage.emailChangeLinkSeconds);
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

  function auditSetting(run: SettingsRun, type: string, detail: Record<string, unknown> = {}): Promise<void> {
    return services.audit.record({ type, accountId: run.account.id, clientId: null, ip: run.ctx.ip || null, detail });
  }

  /** The overview again with a field's error (400): nothing was changed. */
  async function refuse(run: SettingsRun, errors: Record<string, string>, values: Record<string, string> = {}, status = 400): Promise<void> {
    await kind.overview(run.ctx, run.account, run.flow, status, { errors, values });
  }

  router.get('/account', async (ctx) => {
    await noteReturnLink(services, ctx);
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
    await auditSetting(run, 'settings.remember_duration', { choice: form.remember });
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
    await auditSetting(run, 'settings.default_method', { factor: factor.id });
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

  // Mijn gegevens: a new e-mail address waits until the link mailed to it is used (accounts/email-change.ts).
  accountForm('/account/email', async (run, form) => {
    const { account, ctx } = run;
    const { t } = pageState(ctx);
    const address = normaliseAddress(form.email);
    if (!address) return refuse(run, { email: 'settings.email.errors.invalid' }, { email: (form.email ?? '').slice(0, 254) });
    if (address.toLowerCase() === account.email.toLowerCase()) return refuse(run, { email: 'settings.email.errors.same' }, { email: address });
    // An address another account signs in with gets the same answer, and no mail: the page does
    // not say whose addresses exist, and the link could never be used anyway.
    // Counted before anything is sent, taken addresses too (their answer must look the same).
    if ((await services.limits.hit(`email-change:${account.id}`, limitRule(services.config.policy.accountPage.emailChangeLinks))) < 0) {
      return refuse(run, { email: 'settings.email.errors.too_many' }, { email: address }, 429);
    }
    const taken = await usedByAnother(account, address);
    if (taken) {
      // As a new request does: the previous link stops working (else it would tell the two apart).
      run.account = await emailChanges.cancel(account);
    } else {
      const started = await emailChanges.start(account, address);
      // Beside the answer, as the recovery mails go: a taken address sends nothing, so waiting for
      // the mail server here would tell the two apart by time, or by a failing server's error.
      mailEmailChangeLink(started.account, address, started.secret).catch((error: unknown) => {
        services.logger.warn({ accountId: account.id, to: maskMail(address), error: error instanceof Error ? error.name : 'unknown' }, 'e-mail change link not sent');
      });
      run.account = started.account;
    }
    await auditSetting(run, 'settings.email_change_requested', { to: maskMail(address), sent: !taken });
    run.flow.state.notice = t('settings.email.link_sent', { address });
    // The same page for both: the address waits (or seems to), named on this answer only; later
    // visits name no waiting address (for either), or a reload would tell them apart.
    await kind.overview(ctx, run.account, run.flow, 200, { pendingEmail: address });
  });

  /**
   * Whether another account answers to the address at login, as username or as e-mail address
   * (the login looks usernames up first: an e-mail equal to another account's username would be
   * shadowed by it, or shadow it).
   */
  async function usedByAnother(account: AccountRecord, address: string): Promise<boolean> {
    const holder = await services.store.accounts.findByLogin(address);
    return holder !== undefined && holder.id !== account.id;
  }

  async function mailEmailChangeLink(account: AccountRecord, address: string, secret: string): Promise<void> {
    const lang = isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE;
    const t = translator(lang);
    const url = `${issuer()}/account/email/confirm?account=${encodeURIComponent(account.id)}&token=${encodeURIComponent(secret)}`;
    const minutes = String(Math.round(services.config.policy.accountPage.emailChangeLinkSeconds / 60));
    const subject = t('settings.email.mail.subject');
    const paragraphs = [t('notices.greeting', { name: account.givenName ?? account.username }), t('settings.email.mail.intro', { username: account.username }), t('settings.email.mail.expiry', { minutes }), t('settings.email.mail.not_you')];
    const signature = mailSignature(t, services.config.brand.name);
    const text = [...paragraphs.slice(0, 2), url, ...paragraphs.slice(2), signature].join('\n\n');
    const html = renderMail('mail/email-change', { lang, t, subject, paragraphs, url, signature });
    await services.delivery.sendMail({ to: address, subject, text, html });
  }

  /** The link's account and secret, as posted or in the query; undefined when malformed. */
  function linkOf(values: Record<string, unknown>): { accountId: string; secret: string } | undefined {
    const { account, token } = values;
    if (typeof account !== 'string' || typeof token !== 'string' || account.length > 200 || token.length > 200) return undefined;
    return { accountId: account, secret: token };
  }

  /** A link that is unknown, expired or used already: a clear page, nothing changed. */
  function deadLink(ctx: Context): void {
    render(ctx, 'flows/email-link', { state: 'expired' }, 410);
  }

  // Opening the link only shows a button: mail scanners and link previews fetch links too.
  router.get('/account/email/confirm', async (ctx) => {
    const link = linkOf(ctx.query);
    const account = link && (await services.accounts.findById(link.accountId));
    const pending = link && account?.status === 'active' ? await emailChanges.check(account, link.secret) : undefined;
    if (!link || !pending) return deadLink(ctx);
    render(ctx, 'flows/email-link', { state: 'confirm', address: pending.address, accountId: link.accountId, token: link.secret });
  });

  router.post('/account/email/confirm', formBody(), async (ctx) => {
    const link = linkOf(readForm(ctx));
    const account = link && (await services.accounts.findById(link.accountId));
    const pending = link && account?.status === 'active' ? await emailChanges.redeem(account, link.secret) : undefined;
    if (!link || !account || !pending) return deadLink(ctx);
    const previous = account.email;
    let changed: AccountRecord;
    // Taken since the link was sent (an operator's `user add`, another patient's change).
    if (await usedByAnother(account, pending.address)) {
      await services.accounts.update(emailChanges.withoutPending(account), {});
      render(ctx, 'flows/email-link', { state: 'taken' }, 409);
      return;
    }
    try {
      changed = await services.accounts.update(emailChanges.withoutPending(account), { email: pending.address, emailVerified: true });
    } catch (error) {
      if (!(error instanceof DuplicateError)) throw error;
      await services.accounts.update(emailChanges.withoutPending(account), {});
      render(ctx, 'flows/email-link', { state: 'taken' }, 409);
      return;
    }
    // E-mail codes now go to the new address: a remembered device must not stand in for the old one.
    await services.devices.forgetAll(account.id);
    await services.audit.record({ type: 'settings.email_changed', accountId: account.id, clientId: null, ip: ctx.ip || null, detail: { from: maskMail(previous), to: maskMail(pending.address) } });
    if (previous) sendSecurityNotice(services, changed, { kind: 'email_changed', previousEmail: previous });
    render(ctx, 'flows/email-link', { state: 'done', address: pending.address });
  });

  // A new phone number is a new authenticator (NIST SP 800-63B-4): the enrolled phone factor is
  // set up again from a new number, proved by a code sent there, before it replaces the old one;
  // the old channels are told (the notify hook), remembered devices go (the revoke hook). Only
  // for an account that has a phone factor: setting one up from here would quietly add SMS as a
  // sign-in method (an app-only account ending with ['totp', 'sms']). Without one the patient
  // adds SMS knowingly, under Tweestapsverificatie, which asks for the number and proves it.
  accountForm('/account/phone', async (run) => {
    const phoneFactors = allFactors().filter((f) => f.address === 'phone' && f.enrollable);
    const factor = (await Promise.all(phoneFactors.map(async (f) => ((await f.isEnrolled(services, run.account)) ? f : undefined)))).find((f) => f !== undefined);
    if (!factor) return refuse(run, { tweestaps: 'settings.phone.errors.no_phone_method' }, {}, 409);
    kind.reset(run.flow);
    run.flow.state.enrolling = factor.id;
    run.flow.state.scratch[factor.id] = { [NEW_ADDRESS_HINT]: true };
    run.flow.state.enrolment = { sessionUid: run.sessionUid, startedAt: services.clock.now(), factor: factor.id, replacing: true };
    await runner.advance(run);
  });

  // Wachtwoord: the patient's own password change (password-page.ts), on a page of its own.
  const passwordPage = new PasswordPage(services, kind, runner);
  router.get(PASSWORD_PAGE, async (ctx) => {
    const signedIn = await requireAccount(ctx);
    if (!signedIn) return;
    const flow = await kind.create(signedIn.account);
    await passwordPage.show(await loadRun(ctx, signedIn, flow.id));
  });
  accountForm(PASSWORD_PAGE, (run, form) => passwordPage.change(run, form));

  accountForm('/account/devices/forget', async (run, form) => {
    const { t } = pageState(run.ctx);
    if (!(await services.devices.forget(run.account.id, form.device ?? ''))) throw new UserFacingError(400, 'errors.bad_request');
    await auditSetting(run, 'settings.device_forgotten', { device: String(form.device).slice(0, 32) });
    run.flow.state.notice = t('settings.devices.forgotten_one');
    await kind.overview(run.ctx, run.account, run.flow);
  });

  /** The portal a form names, when the account is signed in there or it holds a grant. */
  async function connectedPortal(run: SettingsRun, clientId: string | undefined) {
    const portal = (await accountSessions.portals(run.account.id)).find((p) => p.clientId === clientId);
    if (!portal) throw new UserFacingError(400, 'errors.bad_request');
    return portal;
  }

  accountForm('/account/portals/sign-out', async (run, form) => {
    const portal = await connectedPortal(run, form.client);
    const told = await accountSessions.signOutOf(run.account.id, portal.clientId);
    await services.audit.record({ type: 'settings.portal_signed_out', accountId: run.account.id, clientId: portal.clientId, ip: run.ctx.ip || null, detail: { backchannel: told } });
    run.flow.state.notice = pageState(run.ctx).t('settings.portals.signed_out', { portal: portal.name });
    await kind.overview(run.ctx, run.account, run.flow);
  });

  accountForm('/account/portals/revoke', async (run, form) => {
    const portal = await connectedPortal(run, form.client);
    const told = await accountSessions.revokeAccess(run.account.id, portal.clientId);
    await services.audit.record({ type: 'settings.portal_revoked', accountId: run.account.id, clientId: portal.clientId, ip: run.ctx.ip || null, detail: { backchannel: told } });
    run.flow.state.notice = pageState(run.ctx).t('settings.portals.revoked', { portal: portal.name });
    await kind.overview(run.ctx, run.account, run.flow);
  });

  // Everywhere, this browser too: the page says so and offers to sign in again.
  accountForm('/account/sign-out-everywhere', async (run) => {
    const told = await accountSessions.signOutEverywhere(run.account.id);
    await auditSetting(run, 'settings.signed_out_everywhere', { backchannel: told });
    await kind.flows.remove(run.flow.id);
    render(run.ctx, 'flows/signed-out-everywhere', {});
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
