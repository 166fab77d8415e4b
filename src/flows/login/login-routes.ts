// HTTP routes of the login flow. They live under /interaction/:uid because oidc-provider's
// interaction cookie is scoped to that path.
import Router from '@koa/router';
import type { Context } from 'koa';
import { render, pageState } from '../../web/render.ts';
import { languageChosen, setLanguage } from '../../web/language.ts';
import { pickLanguage } from '../../i18n/i18n.ts';
import { formBody, readForm } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import type { Factor, FactorOutcome } from '../../factors/factor.ts';
import { csrfMatches } from '../flow.ts';
import type { LoginContext, LoginFlowEngine } from './login-flow.ts';
import type { LoginStep } from './decide-step.ts';
import { afterBinding } from '../after-binding.ts';
import { claimsOfScope } from '../../oidc/claims.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';

const base = (uid: string) => `/interaction/${uid}`;

export function loginRoutes(engine: LoginFlowEngine): Router {
  const router = new Router();

  /**
   * "Use another method": exactly the alternatives the step engine gives for this step, so every
   * method offered works and nothing else is offered — at a challenge the account's methods that
   * count here (posted to /choose), while enrolling the portal's other methods (posted to /enrol).
   */
  async function methodChoice(ctx: Context, login: LoginContext, factor: Factor, mode: 'challenge' | 'enrol') {
    const uid = login.interaction.uid;
    const step = await engine.decide(login);
    const alternatives = step.kind === 'factor' && step.factor === factor.id && step.mode === mode ? step.alternatives : [];
    const { t } = pageState(ctx);
    if (mode === 'enrol') return { otherMethods: alternatives.map((id) => ({ id, label: t(`${id}.enrol.choice`) })), chooseAction: `${base(uid)}/enrol` };
    const account = login.account;
    const otherMethods = account ? await Promise.all(alternatives.map(async (id) => ({ id, label: await engine.findFactor(id)!.describe(engine.services, account, t) }))) : [];
    return { otherMethods, chooseAction: `${base(uid)}/choose` };
  }

  async function showFactor(ctx: Context, login: LoginContext, factor: Factor, mode: 'challenge' | 'enrol', extra: Record<string, unknown> = {}, status = 200) {
    const fctx = engine.factorContext(ctx, login, factor);
    const locals = await factor.present(fctx, mode);
    render(ctx, factor.view, {
      mode,
      uid: login.interaction.uid,
      csrf: login.flow.csrf,
      action: (name: string) => `${base(login.interaction.uid)}/step/${factor.id}/${name}`,
      abortAction: `${base(login.interaction.uid)}/abort`,
      portal: login.interaction.policy,
      // The account page's own login has no portal to go back to.
      cancelKey: login.interaction.policy.clientId === ACCOUNT_CLIENT_ID ? 'common.cancel_login' : undefined,
      account: login.account ? { username: login.account.username } : undefined,
      ...(await methodChoice(ctx, login, factor, mode)),
      rememberAllowed: login.interaction.policy.rememberDevice && login.account !== undefined && engine.services.devices.durationFor(login.account) > 0,
      errors: {},
      ...locals,
      ...extra,
    }, status);
  }

  /** Enters and shows the step the engine decides, or finishes the login. */
  async function advance(ctx: Context, login: LoginContext): Promise<void> {
    await engine.applyRememberedDevice(ctx, login);
    const step = await engine.decide(login);
    await showStep(ctx, login, step, true);
  }

  async function showStep(ctx: Context, login: LoginContext, step: LoginStep, entering: boolean): Promise<void> {
    switch (step.kind) {
      case 'done': {
        const url = await engine.finish(ctx, login);
        ctx.status = 303;
        ctx.redirect(url);
        return;
      }
      case 'unreachable':
        await engine.save(login);
        render(ctx, 'flows/unreachable', { reason: step.reason, portal: login.interaction.policy, csrf: login.flow.csrf, abortAction: `${base(login.interaction.uid)}/abort` }, 403);
        return;
      case 'choose-enrolment': {
        await engine.save(login);
        const { t } = pageState(ctx);
        render(ctx, 'flows/choose-enrolment', {
          csrf: login.flow.csrf,
          chooseAction: `${base(login.interaction.uid)}/enrol`,
          methods: step.methods.map((id) => ({ id, label: t(`${id}.enrol.choice`), hint: t(`${id}.enrol.choice_hint`) })),
          portal: login.interaction.policy,
        });
        return;
      }
      case 'reauthenticate': {
        const factor = engine.findFactor(step.factor)!;
        login.flow.state.current = { factor: factor.id, mode: 'challenge' };
        await engine.save(login);
        await showFactor(ctx, login, factor, 'challenge', { reauthenticate: true });
        return;
      }
      case 'factor': {
        const factor = engine.findFactor(step.factor)!;
        const same = login.flow.state.current?.factor === factor.id && login.flow.state.current.mode === step.mode;
        if (entering && !same) {
          login.flow.state.current = { factor: factor.id, mode: step.mode };
          const outcome = await factor.enter(engine.factorContext(ctx, login, factor), step.mode);
          await engine.save(login);
          await applyOutcome(ctx, login, factor, step.mode, outcome);
          return;
        }
        await engine.save(login);
        await showFactor(ctx, login, factor, step.mode);
        return;
      }
    }
  }

  async function applyOutcome(ctx: Context, login: LoginContext, factor: Factor, mode: 'challenge' | 'enrol', outcome: FactorOutcome, form: Record<string, string> = {}) {
    engine.forgetFacts(login);
    // A second factor set up in this login (only ever one the account lacked): the patient hears of it.
    if (mode === 'enrol' && factor.role === 'second' && (outcome.kind === 'proved' || outcome.kind === 'enrolled') && login.account) {
      login.account = await afterBinding(engine.services, { before: login.account, factor, replaced: false, portal: login.interaction.policy.name });
    }
    switch (outcome.kind) {
      case 'proved': {
        const wasReauth = login.flow.state.reauthenticated !== true && login.flow.state.proofs.some((p) => p.factor === factor.id);
        if (wasReauth) {
          login.flow.state.reauthenticated = true;
          login.flow.state.current = undefined;
        } else {
          engine.recordProof(login, outcome.proof, outcome.account);
        }
        if (mode === 'enrol') {
          login.flow.state.enrolledInFlow.push(factor.id);
          login.flow.state.enrolling = undefined;
        }
        if (factor.role !== 'first' && form.remember_device === 'on') login.flow.state.rememberDevice = true;
        await engine.save(login);
        await advance(ctx, login);
        return;
      }
      case 'enrolled':
        login.flow.state.enrolledInFlow.push(factor.id);
        login.flow.state.enrolling = undefined;
        login.flow.state.current = undefined;
        await engine.save(login);
        await advance(ctx, login);
        return;
      case 'show':
        await engine.save(login);
        await showFactor(ctx, login, factor, mode, outcome.locals ?? {}, outcome.status ?? 200);
        return;
      case 'fail':
        await engine.save(login);
        render(ctx, 'errors/message', { messageKey: outcome.messageKey, portal: login.interaction.policy }, outcome.status);
        return;
    }
  }

  /** Loads the flow; the portal's ui_locales hint applies until the patient picks a language. */
  async function load(ctx: Context): Promise<LoginContext> {
    const login = await engine.load(ctx);
    // Pages rendered after a POST switch language by reloading the step itself.
    ctx.state.getUrl = base(login.interaction.uid);
    const hint = pickLanguage([typeof login.interaction.params.ui_locales === 'string' ? login.interaction.params.ui_locales : undefined]);
    if (hint && !languageChosen(ctx)) setLanguage(ctx, hint);
    return login;
  }

  function requireCsrf(login: LoginContext, form: Record<string, string>): void {
    if (!csrfMatches(login.flow, form._csrf)) throw new UserFacingError(403, 'errors.csrf');
  }

  router.get('/interaction/:uid', async (ctx) => {
    const login = await load(ctx);
    if (login.interaction.prompt === 'consent') return showConsent(ctx, login);
    const step = await engine.decide(login);
    // A reload shows the current step again without entering it anew (no second code sent).
    await showStep(ctx, login, step, !login.flow.state.current);
  });

  router.post('/interaction/:uid/step/:factor/:action', formBody(), async (ctx) => {
    const login = await load(ctx);
    const form = readForm(ctx);
    requireCsrf(login, form);
    const factor = engine.findFactor(ctx.params.factor ?? '');
    const current = login.flow.state.current;
    if (!factor || !factor.actions.includes(ctx.params.action ?? '')) throw new UserFacingError(404, 'errors.not_found');
    // Only the step the engine is on may be posted to: no skipping ahead, no foreign factor.
    const step = await engine.decide(login);
    const expected = step.kind === 'factor' || step.kind === 'reauthenticate' ? step.factor : undefined;
    if (expected !== factor.id) {
      await showStep(ctx, login, step, !current);
      // A stale form: show where the flow really is (409), unless that step just finished it.
      if (ctx.status === 200) ctx.status = 409;
      return;
    }
    const mode = step.kind === 'factor' ? step.mode : 'challenge';
    const outcome = await factor.handle(engine.factorContext(ctx, login, factor), ctx.params.action!, form, mode);
    await applyOutcome(ctx, login, factor, mode, outcome, form);
  });

  // "Use another method": a plain form whose button value names the method. Only a method the
  // engine offers at this step is accepted (decide-step.ts); anything else is refused with a 400.
  router.post('/interaction/:uid/choose', formBody(), async (ctx) => {
    const login = await load(ctx);
    const form = readForm(ctx);
    requireCsrf(login, form);
    const method = form.method ?? '';
    const step = await engine.decide(login);
    if (step.kind !== 'factor' || step.mode !== 'challenge' || !step.alternatives.includes(method)) {
      await showStep(ctx, login, step, false);
      ctx.status = 400;
      return;
    }
    login.flow.state.chosenFactor = method;
    await advance(ctx, login);
  });

  // Enrolment method choice during login: one of the methods the engine offers for enrolment.
  router.post('/interaction/:uid/enrol', formBody(), async (ctx) => {
    const login = await load(ctx);
    const form = readForm(ctx);
    requireCsrf(login, form);
    const step = await engine.decide(login);
    const choices = step.kind === 'choose-enrolment' ? step.methods
      : step.kind === 'factor' && step.mode === 'enrol' && step.alternatives.length > 0 ? [step.factor, ...step.alternatives]
        : [];
    const method = form.method ?? '';
    if (!choices.includes(method)) {
      await showStep(ctx, login, step, false);
      ctx.status = 400;
      return;
    }
    // Switching methods mid-enrolment starts the new one afresh.
    login.flow.state.enrolling = method;
    login.flow.state.current = undefined;
    delete login.flow.state.scratch[method];
    await advance(ctx, login);
  });

  router.post('/interaction/:uid/abort', formBody(), async (ctx) => {
    const login = await load(ctx);
    requireCsrf(login, readForm(ctx));
    const url = await engine.interactions.abort(ctx, 'End-User aborted interaction');
    await engine.flows.remove(login.flow.id);
    ctx.status = 303;
    ctx.redirect(url);
  });

  async function showConsent(ctx: Context, login: LoginContext, status = 200) {
    await engine.save(login);
    render(ctx, 'flows/consent', {
      csrf: login.flow.csrf,
      portal: login.interaction.policy,
      requested: consentItems(ctx, login),
      confirmAction: `${base(login.interaction.uid)}/consent`,
      abortAction: `${base(login.interaction.uid)}/abort`,
    }, status);
  }

  /** What the portal asks for, in plain words: each scope, then each claim no listed scope covers. */
  function consentItems(ctx: Context, login: LoginContext): string[] {
    const { t } = pageState(ctx);
    const { missingScopes, missingClaims } = login.interaction;
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
    const login = await load(ctx);
    requireCsrf(login, readForm(ctx));
    if (login.interaction.prompt !== 'consent') throw new UserFacingError(409, 'errors.not_found');
    const url = await engine.interactions.grantConsent(ctx);
    await engine.flows.remove(login.flow.id);
    ctx.status = 303;
    ctx.redirect(url);
  });

  return router;
}
