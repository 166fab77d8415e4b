// HTTP routes of the login kind. They live under /interaction/:uid because oidc-provider's
// interaction cookie is scoped to that path. The step and method-choice routes are the kit's
// (flows/kit/routes.ts); consent and abort are the login's own.
import Router from '@koa/router';
import type { Context } from 'koa';
import { render, pageState } from '../../web/render.ts';
import { languageChosen, setLanguage } from '../../web/language.ts';
import { pickLanguage } from '../../i18n/i18n.ts';
import { formBody, readForm } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import { claimsOfScope } from '../../oidc/claims.ts';
import type { FlowRunner } from '../kit/runner.ts';
import { flowRoutes, requireCsrf } from '../kit/routes.ts';
import { loginBase, type LoginKind, type LoginRun } from './login-kind.ts';

export function loginRoutes(kind: LoginKind, runner: FlowRunner<LoginRun>): Router {
  const router = new Router();

  /** Loads the flow; the portal's ui_locales hint applies until the patient picks a language. */
  async function load(ctx: Context): Promise<LoginRun> {
    const run = await kind.load(ctx);
    // Pages rendered after a POST switch language by reloading the step itself.
    ctx.state.getUrl = loginBase(run.interaction.uid);
    const hint = pickLanguage([typeof run.interaction.params.ui_locales === 'string' ? run.interaction.params.ui_locales : undefined]);
    if (hint && !languageChosen(ctx)) setLanguage(ctx, hint);
    return run;
  }

  router.get('/interaction/:uid', async (ctx) => {
    const run = await load(ctx);
    if (run.interaction.prompt === 'consent') return showConsent(ctx, run);
    // A reload shows the current step again without entering it anew (no second code sent).
    await runner.show(run, !run.flow.state.current);
  });

  flowRoutes(router, '/interaction/:uid', runner, load, { methodChoice: true });

  router.post('/interaction/:uid/abort', formBody(), async (ctx) => {
    const run = await load(ctx);
    requireCsrf(run, readForm(ctx));
    const url = await kind.interactions.abort(ctx, 'End-User aborted interaction');
    await kind.flows.remove(run.flow.id);
    ctx.status = 303;
    ctx.redirect(url);
  });

  async function showConsent(ctx: Context, run: LoginRun, status = 200) {
    await runner.save(run);
    render(ctx, 'flows/consent', {
      csrf: run.flow.csrf,
      portal: run.interaction.policy,
      requested: consentItems(ctx, run),
      confirmAction: `${loginBase(run.interaction.uid)}/consent`,
      abortAction: `${loginBase(run.interaction.uid)}/abort`,
    }, status);
  }

  /** What the portal asks for, in plain words: each scope, then each claim no listed scope covers. */
  function consentItems(ctx: Context, run: LoginRun): string[] {
    const { t } = pageState(ctx);
    const { missingScopes, missingClaims } = run.interaction;
    const covered = new Set(missingScopes.flatMap((scope) => claimsOfScope(scope)));
    const claimLabel = (claim: string) => {
      const key = `consent.claim.${claim}`;
      const label = t(key);
      return label === key ? t('consent.claim.other', { claim }) : label;
    };
    const labels = [...missingScopes.map((scope) => t(`consent.scope.${scope}`)), ...missingClaims.filter((c) => !covered.has(c)).map(claimLabel)];
    return [...new Set(labels)];
  }

  router.post('/interaction/:uid/consent', formBody(), async (ctx) => {
    const run = await load(ctx);
    requireCsrf(run, readForm(ctx));
    if (run.interaction.prompt !== 'consent') throw new UserFacingError(409, 'errors.not_found');
    const url = await kind.interactions.grantConsent(ctx);
    await kind.flows.remove(run.flow.id);
    ctx.status = 303;
    ctx.redirect(url);
  });

  return router;
}
