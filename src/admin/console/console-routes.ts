// The /admin console (issue 13): server-rendered pages over the same admin operations as the CLI
// and the REST API. Admins sign in through Poortwachter's own login flow with the internal client
// `poortwachter-admin` (oidc/admin-client.ts: a fresh login with a second factor at AAL2), as the
// account pages do with theirs; then only an account with an admin grant gets a console session
// (admin-sessions.ts: server side, short, its cookie HttpOnly and SameSite=Strict).
import Router from '@koa/router';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import type { Services } from '../../services.ts';
import type { Sessions } from '../../oidc/sessions.ts';
import type { SessionProofs } from '../../oidc/session-proofs.ts';
import type { Proof } from '../../oidc/assurance.ts';
import { ADMIN_ACR, ADMIN_CLIENT_ID, ADMIN_METHODS } from '../../oidc/admin-client.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';
import { shortfalls } from '../../policy/proof-rules.ts';
import { factorFacts } from '../../flows/kit/factor-facts.ts';
import { randomId, safeEqual } from '../../accounts/random.ts';
import { render, pageState } from '../../web/render.ts';
import { UserFacingError } from '../../web/errors.ts';
import { formBody } from '../../web/form.ts';
import { adminActor } from '../operations/actor.ts';
import type { AdminOperations } from '../operations/index.ts';
import { AdminSessions } from './admin-sessions.ts';
import { ConsolePages, show, type SignedInAdmin } from './console-kit.ts';
import { portalPages } from './portal-pages.ts';
import { accountPages } from './account-pages.ts';
import { auditPages } from './audit-pages.ts';

const SESSION_COOKIE = 'pw_admin';
const LOGIN_STATE_COOKIE = 'pw_admin_login';
/** The console page asked for before the sign-in, opened after it. */
const RETURN_COOKIE = 'pw_admin_return';
/** The login behind a console session is at most this old when the session starts. */
const FRESH_LOGIN_SECONDS = 300;

export interface ConsoleOptions {
  services: Services;
  operations: AdminOperations;
  sessions: Sessions;
  sessionProofs: SessionProofs;
}

export function adminConsole(options: ConsoleOptions): Router {
  const { services, operations, sessions, sessionProofs } = options;
  const issuer = () => services.config.issuer;
  const adminSessions = new AdminSessions(services.store, services.clock, services.config.policy.adminConsole);
  const router = new Router();

  function setSessionCookie(ctx: Context, token: string): void {
    // Strict: no other site can make the browser send it, not even with a top-level link.
    ctx.cookies.set(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/admin', signed: false, maxAge: services.config.policy.adminConsole.maxSeconds * 1000 });
  }

  function clearSessionCookie(ctx: Context): void {
    ctx.cookies.set(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: '/admin', signed: false, maxAge: 0 });
  }

  /** To the regular login flow: a fresh login (max_age) at the console's level (acr_values). */
  function redirectToLogin(ctx: Context): void {
    const state = randomId(16);
    // The code is never redeemed (the console reads the session the login made), as on /account.
    const challenge = createHash('sha256').update(randomId(32)).digest('base64url');
    ctx.cookies.set(LOGIN_STATE_COOKIE, state, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/admin', maxAge: 3600_000, signed: false });
    ctx.cookies.set(RETURN_COOKIE, encodeURIComponent(ctx.url), { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: '/admin', maxAge: 3600_000, signed: false });
    const url = new URL('/auth', issuer());
    const params = {
      client_id: ADMIN_CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: `${issuer()}/admin/callback`, state,
      code_challenge: challenge, code_challenge_method: 'S256', ui_locales: pageState(ctx).lang, acr_values: ADMIN_ACR, max_age: String(FRESH_LOGIN_SECONDS),
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    ctx.status = 303;
    ctx.redirect(url.href);
  }

  /**
   * Whether this login was proved, typed in this login, with an app or passkey the account had when
   * the role was granted (and so before this login). One set up later — in a refused console
   * login, on /account with a weaker factor (SMS ranks with the app in the binding rule), after a
   * 2FA reset — never opens the console: a new app needs a new grant from an operator (review of
   * the console, finding 1 and its sequel). The proof names its credential, so an old passkey the
   * account also holds does not vouch for a new one that signed in.
   */
  async function heldBefore(accountId: string, proofs: readonly Proof[], startedAt: number | undefined, grantedAt: number): Promise<boolean> {
    if (startedAt === undefined) return false;
    const typedNow = proofs.filter((p) => (ADMIN_METHODS as readonly string[]).includes(p.factor) && !p.replayed && p.at >= startedAt && p.credential !== undefined);
    if (typedNow.length === 0) return false;
    const credentials = await services.store.credentials.listByAccount(accountId);
    return credentials.some((c) => typedNow.some((p) => p.credential === c.id && p.factor === c.type) && c.createdAt < startedAt && c.createdAt <= grantedAt);
  }

  /** The admin behind the request, or a redirect to sign in, or a 403 page for an account without a grant. */
  async function gate(ctx: Context): Promise<SignedInAdmin | undefined> {
    const session = await adminSessions.resume(ctx.cookies.get(SESSION_COOKIE, { signed: false }));
    const account = session ? await services.accounts.findById(session.accountId) : undefined;
    // The login session it was opened from must still be there (review: a revoked sign-in ends the console).
    const login = session ? await sessions.current(ctx) : undefined;
    if (!session || !account || account.status !== 'active' || login?.uid !== session.loginSessionUid || login.accountId !== account.id) {
      if (session) await adminSessions.end(session);
      clearSessionCookie(ctx);
      if (ctx.method !== 'GET') throw new UserFacingError(403, 'admin.errors.signed_out');
      redirectToLogin(ctx);
      return undefined;
    }
    // The grant is read on every request: a revoked or changed role takes effect at once.
    const actor = adminActor(account, await services.store.adminGrants.find(account.id), { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });
    if (!actor || actor.kind !== 'admin') {
      await adminSessions.end(session);
      clearSessionCookie(ctx);
      render(ctx, 'admin/no-access', {}, 403);
      return undefined;
    }
    ctx.set('Cache-Control', 'no-store');
    return { actor, session };
  }

  router.get('/admin/callback', async (ctx) => {
    const expected = ctx.cookies.get(LOGIN_STATE_COOKIE, { signed: false });
    ctx.cookies.set(LOGIN_STATE_COOKIE, '', { path: '/admin', maxAge: 0, signed: false });
    if (!expected || ctx.query.state !== expected) throw new UserFacingError(400, 'errors.bad_request');
    if (typeof ctx.query.error === 'string') {
      render(ctx, 'admin/not-signed-in', {}, ctx.query.error === 'access_denied' ? 200 : 403);
      return;
    }
    const current = await sessions.current(ctx);
    const account = current ? await services.accounts.findById(current.accountId) : undefined;
    if (!current || !account || account.status !== 'active') throw new UserFacingError(403, 'admin.errors.signed_out');
    // The login flow enforced the client's demands; checked again here, on the proofs themselves,
    // so a session reached some other way never opens the console.
    const client = await services.store.clients.find(ADMIN_CLIENT_ID);
    const record = await sessionProofs.findRecord(current.uid, account.id);
    const requirement = { policy: policyFromMetadata(client?.metadata ?? { client_id: ADMIN_CLIENT_ID }), requiredAcr: ADMIN_ACR, maxAgeMs: FRESH_LOGIN_SECONDS * 1000 };
    if (!record || shortfalls(record.proofs, await factorFacts(services, account), requirement, services.clock.now(), record.login).length > 0) {
      await services.audit.record({ type: 'admin.console.refused', accountId: account.id, clientId: ADMIN_CLIENT_ID, ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null, detail: { outcome: 'too_weak' } });
      throw new UserFacingError(403, 'admin.errors.too_weak');
    }
    // An app or passkey set up in this very login proves only what the login's weaker steps proved
    // (the binding rule lets the strongest existing factor bind a new one: for an admin whose
    // strongest is e-mail or SMS, that is the mailbox or the SIM). The console wants one the admin
    // had before this login started (review of the console, finding 1).
    const grant = await services.store.adminGrants.find(account.id);
    if (grant && !(await heldBefore(account.id, record.proofs, record.login?.startedAt, grant.grantedAt))) {
      await services.audit.record({ type: 'admin.console.refused', accountId: account.id, clientId: ADMIN_CLIENT_ID, ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null, detail: { outcome: 'factor_new' } });
      throw new UserFacingError(403, 'admin.errors.too_weak');
    }
    if (!grant) {
      await services.audit.record({ type: 'admin.console.refused', accountId: account.id, clientId: ADMIN_CLIENT_ID, ip: ctx.ip || null, detail: { outcome: 'no_grant' } });
      render(ctx, 'admin/no-access', {}, 403);
      return;
    }
    const { token } = await adminSessions.start(account.id, current.uid);
    setSessionCookie(ctx, token);
    await services.audit.record({ type: 'admin.console.signed_in', accountId: account.id, clientId: ADMIN_CLIENT_ID, actor: `admin:${account.id}`, ip: ctx.ip || null, detail: { outcome: 'signed_in', role: grant.role } });
    ctx.status = 303;
    ctx.redirect(returnPath(ctx));
  });

  /** The page asked for before signing in: only a console page of this site, never another host. */
  function returnPath(ctx: Context): string {
    const raw = ctx.cookies.get(RETURN_COOKIE, { signed: false });
    ctx.cookies.set(RETURN_COOKIE, '', { path: '/admin', maxAge: 0, signed: false });
    let path: string;
    try {
      path = raw ? decodeURIComponent(raw) : '';
    } catch {
      path = '';
    }
    return /^\/admin(\/[\w.\-/]*)?(\?[^\\\s]*)?$/.test(path) && !path.startsWith('/admin/callback') ? path : '/admin';
  }

  const pages = new ConsolePages(router, gate);

  pages.page('/admin', async (ctx, admin) => {
    show(ctx, admin, 'home');
  });

  // Sign-out ends the console session here, then oidc-provider's session (its own confirmation
  // page): otherwise the next visit would open the console again on the same login.
  router.post('/admin/sign-out', formBody(), async (ctx) => {
    const session = await adminSessions.resume(ctx.cookies.get(SESSION_COOKIE, { signed: false }));
    const posted = (ctx.request as { body?: Record<string, unknown> }).body?._csrf;
    if (session && (typeof posted !== 'string' || !safeEqual(session.csrf, posted))) throw new UserFacingError(403, 'admin.errors.csrf');
    if (session) {
      await adminSessions.end(session);
      await services.audit.record({ type: 'admin.console.signed_out', accountId: session.accountId, clientId: ADMIN_CLIENT_ID, actor: `admin:${session.accountId}`, ip: ctx.ip || null, detail: { outcome: 'signed_out' } });
    }
    clearSessionCookie(ctx);
    const end = new URL('/session/end', issuer());
    end.searchParams.set('client_id', ADMIN_CLIENT_ID);
    end.searchParams.set('post_logout_redirect_uri', `${issuer()}/admin/signed-out`);
    end.searchParams.set('ui_locales', pageState(ctx).lang);
    ctx.status = 303;
    ctx.redirect(end.href);
  });

  router.get('/admin/signed-out', (ctx) => {
    render(ctx, 'admin/signed-out');
  });

  portalPages(pages, operations, services);
  accountPages(pages, operations);
  auditPages(pages, operations);
  return router;
}
