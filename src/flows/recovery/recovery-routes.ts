// HTTP routes of the recovery kind, its own flow kind with its own paths (not under /interaction/):
//   GET  /recovery                    start (`?interaction=<uid>` from a login page; anything else: the defaults)
//   GET  /recovery/captcha            a fresh signed CAPTCHA challenge (JSON, for the widget)
//   GET  /recovery/:flow              the current step
//   POST /recovery/:flow/step/:step/:action, /choose   the kit's
//   GET  /recovery/:flow/link/:token  the e-mailed link (this browser only: the flow's cookie)
//   POST /recovery/:flow/abort        cancel: back to the portal's login
import Router from '@koa/router';
import type { Context } from 'koa';
import { formBody, readForm } from '../../web/form.ts';
import { pageState, render } from '../../web/render.ts';
import { limitRule } from '../../accounts/limits.ts';
import { clientAddressKey } from '../../accounts/client-address.ts';
import type { LimitPolicy } from '../../policy/defaults.ts';
import type { FlowRunner } from '../kit/runner.ts';
import { flowRoutes, requireCsrf } from '../kit/routes.ts';
import { recoveryBase, type RecoveryKind, type RecoveryRun } from './recovery-kind.ts';
import { VERIFY } from './recovery-state.ts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export function recoveryRoutes(kind: RecoveryKind, runner: FlowRunner<RecoveryRun>): Router {
  const router = new Router();

  async function load(ctx: Context): Promise<RecoveryRun> {
    const run = await kind.load(ctx);
    ctx.state.getUrl = recoveryBase(run.flow.id);
    return run;
  }

  /**
   * Counts a request that comes before any proof of work (a new flow row, a PBKDF2 challenge) per
   * client (review of issue 9, finding 8); over the limit: the seconds to wait, else undefined.
   */
  async function overLimit(ctx: Context, what: string, policy: LimitPolicy): Promise<number | undefined> {
    const { limits } = kind.services;
    const key = `recovery-${what}:ip:${clientAddressKey(ctx.ip || null)}`;
    if ((await limits.hit(key, limitRule(policy))) >= 0) return undefined;
    return limits.retryAfterSeconds(key);
  }

  router.get('/recovery', async (ctx) => {
    const wait = await overLimit(ctx, 'start', kind.services.config.policy.recovery.startsPerIp);
    if (wait !== undefined) {
      render(ctx, 'errors/message', { messageKey: 'forgot.errors.too_many_starts', messageParams: { minutes: Math.ceil(wait / 60) } }, 429);
      ctx.set('Retry-After', String(wait));
      return;
    }
    const interaction = typeof ctx.query.interaction === 'string' && ID.test(ctx.query.interaction) ? ctx.query.interaction : undefined;
    const flow = await kind.start(ctx, { interaction });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(recoveryBase(flow.id));
  });

  router.get('/recovery/captcha', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const wait = await overLimit(ctx, 'challenge', kind.services.config.policy.recovery.challengesPerIp);
    if (wait !== undefined) {
      ctx.status = 429;
      ctx.set('Retry-After', String(wait));
      ctx.body = { error: 'too_many_requests', message: pageState(ctx).t('forgot.errors.too_many_starts', { minutes: Math.ceil(wait / 60) }) };
      return;
    }
    ctx.body = await kind.services.captcha.challenge();
  });

  router.get('/recovery/:flow', async (ctx) => {
    const run = await load(ctx);
    await runner.show(run, !run.flow.state.current);
  });

  flowRoutes(router, '/recovery/:flow', runner, load, { methodChoice: true });

  router.get('/recovery/:flow/link/:token', async (ctx) => {
    const run = await load(ctx);
    await runner.post(run, VERIFY, 'open-link', { token: ctx.params.token ?? '' });
  });

  router.post('/recovery/:flow/abort', formBody(), async (ctx) => {
    const run = await load(ctx);
    requireCsrf(run, readForm(ctx));
    const back = await kind.returnUrl(run.flow, run.portal);
    await kind.flows.remove(run.flow.id);
    ctx.status = 303;
    ctx.redirect(back ?? '/recovery');
  });

  return router;
}
