// HTTP routes of the activation kind, its own flow kind with its own paths:
//   GET  /activate/:token          the invitation link: "Gebruikersnaam en e-mailadres zijn ingevuld"
//                                  → "Volgende" (nothing is used yet: a mail scanner that follows
//                                  links must not spend it); an expired, used or tampered link gets
//                                  a 4xx page with "Stuur mij een nieuwe link" (the recovery flow)
//   POST /activate/:token          "Volgende": uses the link (once) and starts the flow in this browser
//   GET  /activation/:flow         the current step
//   POST /activation/:flow/step/:step/:action, /choose, /enrol   the kit's
//   POST /activation/:flow/abort   stop: to the portal, or the start page
// The POST to the link carries no CSRF token: the token in its path is the secret a forged form
// would need, and whoever has it may activate the account anyway.
import Router from '@koa/router';
import type { Context } from 'koa';
import { formBody, readForm } from '../../web/form.ts';
import { render } from '../../web/render.ts';
import { languageChosen, setLanguage } from '../../web/language.ts';
import { isLanguage } from '../../i18n/i18n.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { LinkState } from '../../accounts/invitations.ts';
import type { FlowRunner } from '../kit/runner.ts';
import { flowRoutes, requireCsrf } from '../kit/routes.ts';
import { activationBase, type ActivationKind, type ActivationRun } from './activation-kind.ts';

const TOKEN = /^[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,128}$/;

export function activationRoutes(kind: ActivationKind, runner: FlowRunner<ActivationRun>): Router {
  const router = new Router();
  const { invitations } = kind.services;

  /** The account's language until the patient picks one on the page (issue 9: "texts in the account's language"). */
  function speak(ctx: Context, account: AccountRecord | undefined): void {
    if (account && isLanguage(account.locale) && !languageChosen(ctx)) setLanguage(ctx, account.locale);
  }

  async function load(ctx: Context): Promise<ActivationRun> {
    const run = await kind.load(ctx);
    ctx.state.getUrl = activationBase(run.flow.id);
    speak(ctx, run.account);
    return run;
  }

  const who = (ctx: Context) => ({ actor: 'patient', ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });

  /** The link does not work (any more): the same page for every reason but its first line, and the way to a new one. */
  async function unusable(ctx: Context, state: Extract<LinkState, { ok: false }>): Promise<void> {
    const portal = state.clientId ? await invitations.portal(state.clientId).catch(() => undefined) : undefined;
    // A used or expired link names its account (the link proved it): its language.
    if (state.accountId) speak(ctx, await kind.services.accounts.findById(state.accountId));
    ctx.set('Cache-Control', 'no-store');
    render(ctx, 'flows/activation/link-unusable', { portal, reason: state.reason, recoveryUrl: '/recovery' }, state.reason === 'invalid' ? 404 : 410);
  }

  router.get('/activate/:token', async (ctx) => {
    const token = ctx.params.token ?? '';
    const state = TOKEN.test(token) ? await invitations.check(token) : { ok: false as const, reason: 'invalid' as const };
    if (!state.ok) return unusable(ctx, state);
    const portal = await invitations.portal(state.clientId).catch(() => undefined);
    speak(ctx, state.account);
    ctx.set('Cache-Control', 'no-store');
    // The token is in the page's own URL only; the page tells no other site where it came from.
    ctx.set('Referrer-Policy', 'no-referrer');
    render(ctx, 'flows/activation/email', { portal, username: state.account.username, email: state.account.email, action: `/activate/${token}` });
  });

  router.post('/activate/:token', formBody(), async (ctx) => {
    const token = ctx.params.token ?? '';
    const state = TOKEN.test(token) ? await invitations.accept(token, who(ctx)) : { ok: false as const, reason: 'invalid' as const };
    if (!state.ok) return unusable(ctx, state);
    const flow = await kind.start(ctx, state.account, state.clientId);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(activationBase(flow.id));
  });

  router.get('/activation/:flow', async (ctx) => {
    const run = await load(ctx);
    await runner.show(run, !run.flow.state.current);
  });

  flowRoutes(router, '/activation/:flow', runner, load, { methodChoice: true });

  router.post('/activation/:flow/abort', formBody(), async (ctx) => {
    const run = await load(ctx);
    requireCsrf(run, readForm(ctx));
    await kind.flows.remove(run.flow.id);
    ctx.status = 303;
    ctx.redirect(run.portal?.homeUrl ?? '/recovery');
  });

  return router;
}
