// HTTP routes of the login flow. They live under /interaction/:uid because oidc-provider's
// interaction cookie is scoped to that path.
import Router from '@koa/router';
import type { Context } from 'koa';
import { render, pageState } from '../../web/render.ts';
import { languageChosen, setLanguage } from '../../web/language.ts';
import { pickLanguage } from '../../web/i18n.ts';
import { formBody, readForm } from '../../web/form.ts';
import { UserFacingError } from '../../web/errors.ts';
import type { Factor, FactorOutcome } from '../../factors/factor.ts';
import { csrfMatches } from '../flow.ts';
import type { LoginContext, LoginFlowEngine } from './login-flow.ts';
import type { LoginStep } from './decide-step.ts';

const base = (uid: string) => `/interaction/${uid}`;

export function loginRoutes(engine: LoginFlowEngine): Router {
  const router = new Router();

  /** Second factors this portal lets the patient set up during the login. */
  async function enrollableMethods(login: LoginContext): Promise<string[]> {
    const allowed = login.interaction.policy.mfaMethods as string[];
    return (await engine.facts(login)).filter((f) => f.role === 'second' && f.enrollable && allowed.includes(f.id)).map((f) => f.id);
  }

  /**
   * "Use another method": at a challenge the account's other enrolled methods; while enrolling,
   * the other methods the patient could set up instead (posted to the enrolment choice).
   */
  async function methodChoice(ctx: Context, login: LoginContext, factor: Factor, mode: 'challenge' | 'enrol') {
    const uid = login.interaction.uid;
    if (factor.role === 'first') return { otherMethods: [], chooseAction: `${base(uid)}/choose` };
    if (mode === 'challenge') return { otherMethods: await otherMethods(ctx, login, factor.id), chooseAction: `${base(uid)}/choose` };
    if (factor.role !== 'second') return { otherMethods: [], chooseAction: `${base(uid)}/enrol` };
    const { t } = pageState(ctx);
    const others = (await enrollableMethods(login)).filter((id) => id !== factor.id);
    return { otherMethods: others.map((id) => ({ id, label: t(`${id}.enrol.choice`) })), chooseAction: `${base(uid)}/enrol` };
  }

  /** The account's other usable methods, for "use another method". */
  async function otherMethods(ctx: Context, login: LoginContext, current: string) {
    const account = login.account;
    if (!account) return [];
    const { t } = pageState(ctx);
    const allowed = login.interaction.policy.mfaMethods as string[];
    // While the patient proves ownership with a factor this portal does not list, any factor the
    // account has will do; otherwise only the portal's methods (and the recovery codes).
    const anyWillDo = !allowed.includes(current);
    const facts = await engine.facts(login);
    const usable = facts.filter((f) => f.enrolled && f.id !== current && (f.role === 'recovery' || (f.role === 'second' && (anyWillDo || allowed.includes(f.id)))));
    return Promise.all(usable.map(async (f) => ({ id: f.id, label: await engine.findFactor(f.id)!.describe(engine.services, account, t) })));
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

  // "Use another method": a plain form whose button value names the method.
  router.post('/interaction/:uid/choose', formBody(), async (ctx) => {
    const login = await load(ctx);
    const form = readForm(ctx);
    requireCsrf(login, form);
    const method = form.method ?? '';
    const facts = await engine.facts(login);
    const fact = facts.find((f) => f.id === method);
    // A method the portal does not accept is refused (400), except while the patient proves
    // ownership with such a method anyway (decide-step.ts), when any of their factors will do.
    const portalMethods = login.interaction.policy.mfaMethods as string[];
    const current = login.flow.state.current;
    const proving = current !== undefined && engine.findFactor(current.factor)?.role === 'second' && !portalMethods.includes(current.factor);
    const allowed = fact && fact.enrolled && (fact.role === 'recovery' || (fact.role === 'second' && (proving || portalMethods.includes(fact.id))));
    if (!login.account || !allowed) {
      const step = await engine.decide(login);
      await showStep(ctx, login, step, false);
      ctx.status = 400;
      return;
    }
    login.flow.state.chosenFactor = method;
    await advance(ctx, login);
  });

  // Enrolment method choice during login.
  router.post('/interaction/:uid/enrol', formBody(), async (ctx) => {
    const login = await load(ctx);
    const form = readForm(ctx);
    requireCsrf(login, form);
    const step = await engine.decide(login);
    const choosing = step.kind === 'choose-enrolment' || (step.kind === 'factor' && step.mode === 'enrol' && login.flow.state.enrolling !== undefined);
    const method = form.method ?? '';
    if (!choosing || !(await enrollableMethods(login)).includes(method)) {
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
    const scopes = login.interaction.missingScopes.filter((s) => s !== 'openid' && s !== 'offline_access');
    render(ctx, 'flows/consent', {
      csrf: login.flow.csrf,
      portal: login.interaction.policy,
      scopes,
      claims: login.interaction.missingClaims,
      confirmAction: `${base(login.interaction.uid)}/consent`,
      abortAction: `${base(login.interaction.uid)}/abort`,
    }, status);
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
