// The routes every flow kind shares under its own base path: a form posted to a step, and the
// method choices ("use another method", the method to set up). Each checks the flow's CSRF token
// first; the kind's `load` finds the flow (by interaction uid, or by id for a signed-in patient)
// and may answer the request itself (a redirect to log in) by returning undefined.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { formBody, readForm } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import type { Form } from '../../steps/step.ts';
import { csrfMatches } from './flow-store.ts';
import type { FlowRunner } from './runner.ts';
import type { FlowRun } from './run.ts';

/** CSRF: every form carries its flow's token; anything else is refused before it is looked at. */
export function requireCsrf(run: FlowRun, form: Form): void {
  if (!csrfMatches(run.flow, form._csrf)) throw new UserFacingError(403, 'errors.csrf');
}

export function flowRoutes<R extends FlowRun>(
  router: Router,
  base: string,
  runner: FlowRunner<R>,
  load: (ctx: Context) => Promise<R | undefined>,
  options: { methodChoice: boolean },
): void {
  router.post(`${base}/step/:step/:action`, formBody(), async (ctx) => {
    const run = await load(ctx);
    if (!run) return;
    const form = readForm(ctx);
    requireCsrf(run, form);
    await runner.post(run, ctx.params.step ?? '', ctx.params.action ?? '', form);
  });
  if (!options.methodChoice) return;
  // A plain form whose button value names the method: only what the decider offers is accepted.
  for (const [path, mode] of [['choose', 'challenge'], ['enrol', 'enrol']] as const) {
    router.post(`${base}/${path}`, formBody(), async (ctx) => {
      const run = await load(ctx);
      if (!run) return;
      const form = readForm(ctx);
      requireCsrf(run, form);
      await runner.choose(run, mode, form.method ?? '');
    });
  }
}
