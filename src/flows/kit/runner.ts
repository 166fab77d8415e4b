// The one runner of every flow kind. It shows the step the kind's decider is on (entering it only
// when it is new: a reload never re-sends a code), hands a posted form to that step only (a stale
// or foreign step gets 409 and the real current step), applies the outcome — record a proof, note
// an enrolment, mark an action done, show the page again with errors, or stop — and decides again,
// until the decider says `done` and the kind completes. It knows steps only through their
// interface and never names a factor or an action. The events the flow records go to the kind's
// after-hooks once the step that recorded them finished, and on completion before the kind hands
// its result over.
import type { Services } from '../../services.ts';
import type { Decision } from '../../steps/decision.ts';
import type { Form, Step, StepContext, StepMode, StepOutcome } from '../../steps/step.ts';
import type { Proof } from '../../oidc/assurance.ts';
import type { AccountRecord } from '../../store/port.ts';
import { pageState, render, renderPartial } from '../../web/render.ts';
import { messageLanguage } from '../../web/language.ts';
import { UserFacingError } from '../../web/errors.ts';
import { scratchOf, type Flows } from './flow-store.ts';
import type { FlowKind } from './kind.ts';
import type { FlowRun } from './run.ts';
import { forgetFacts } from './facts.ts';
import { findAction } from '../../actions/registry.ts';

/** The scratch key of what a kind's steps share (never a step id: those are factor and action ids). */
export const FLOW_SCRATCH = '@flow';

/** The step a decision names, and the mode it runs in; undefined for decisions that are not a step. */
function stepOf(decision: Decision): { id: string; mode: StepMode } | undefined {
  switch (decision.kind) {
    case 'factor':
      return { id: decision.factor, mode: decision.mode };
    case 'reauthenticate':
      return { id: decision.factor, mode: 'challenge' };
    case 'action':
      return { id: decision.action, mode: 'challenge' };
    default:
      return undefined;
  }
}

export class FlowRunner<R extends FlowRun> {
  constructor(
    readonly services: Services,
    readonly kind: FlowKind<R>,
    readonly flows: Flows,
  ) {}

  /** What a step sees of the flow. */
  stepContext(run: R, step: Step): StepContext {
    const page = pageState(run.ctx);
    return {
      services: this.services,
      policy: run.policy,
      account: run.account,
      scratch: scratchOf(run.flow.state.scratch, step.id),
      flowScratch: scratchOf(run.flow.state.scratch, FLOW_SCRATCH),
      lang: page.lang,
      t: page.t,
      messageLang: messageLanguage(run.ctx, run.account?.locale),
      ip: run.ctx.ip || null,
      flowId: run.flow.id,
      persist: () => this.save(run),
      passwordChange: run.flow.state.passwordChange,
      sessionUid: run.sessionUid,
      userAgent: run.ctx.get('user-agent') || null,
      ...(run.flow.state.provedAddresses ? { provedAddresses: run.flow.state.provedAddresses } : {}),
    };
  }

  save(run: R): Promise<void> {
    return this.flows.save(run.flow);
  }

  /** What the kind's decider says now. */
  async decide(run: R): Promise<Decision> {
    return this.kind.decide(await this.kind.facts(run));
  }

  /** Hands the events recorded so far to the kind's after-hooks, each once. */
  async dispatch(run: R): Promise<void> {
    if (run.events.length === 0) return;
    const events = run.events.splice(0);
    const context = { services: this.services, kind: this.kind.name, account: run.account, ip: run.ctx.ip || null, ...this.kind.where(run) };
    for (const hook of this.kind.hooks) await hook.run(context, events);
  }

  /** Shows the step the decider is on; `entering` enters it when it is not the one entered already. */
  async show(run: R, entering: boolean): Promise<void> {
    await this.dispatch(run);
    const decision = await this.decide(run);
    const { state } = run.flow;
    switch (decision.kind) {
      case 'done': {
        const completed = this.kind.completedEvent?.(run);
        if (completed) run.events.push(completed);
        await this.dispatch(run);
        await this.kind.complete(run);
        return;
      }
      case 'unreachable':
        await this.save(run);
        render(run.ctx, 'flows/unreachable', { ...this.kind.chrome(run).locals, reason: decision.reason, csrf: run.flow.csrf, abortAction: this.kind.chrome(run).abortAction }, 403);
        return;
      case 'choose-enrolment': {
        await this.save(run);
        const { t } = pageState(run.ctx);
        const chrome = this.kind.chrome(run);
        render(run.ctx, 'flows/choose-enrolment', {
          ...chrome.locals,
          csrf: run.flow.csrf,
          chooseAction: chrome.choiceAction('enrol'),
          methods: decision.methods.map((id) => ({ id, label: t(`${id}.enrol.choice`), hint: t(`${id}.enrol.choice_hint`) })),
        });
        return;
      }
      case 'reauthenticate':
      case 'factor':
      case 'action': {
        const { id, mode } = stepOf(decision)!;
        const step = this.requireStep(id);
        const same = state.current?.step === id && state.current.mode === mode;
        // Entering the first factor again (re-authentication) sends nothing: it is only shown.
        if (entering && !same && decision.kind !== 'reauthenticate') {
          state.current = { step: id, mode };
          const outcome = await step.enter(this.stepContext(run, step), mode);
          await this.save(run);
          await this.apply(run, decision, step, mode, outcome, {});
          return;
        }
        if (decision.kind === 'reauthenticate') state.current = { step: id, mode };
        await this.save(run);
        await this.renderStep(run, step, mode);
        return;
      }
    }
  }

  /** After a change: the kind may look again (a remembered device), then what is next is entered. */
  async advance(run: R): Promise<void> {
    await this.kind.beforeDecide?.(run);
    await this.show(run, true);
  }

  /**
   * A form posted to `stepId`'s `action`. Only the step the decider is on takes it: no skipping
   * ahead, no foreign step, no form of a page left behind. Those get 409 with the real current step.
   */
  async post(run: R, stepId: string, action: string, form: Form): Promise<void> {
    const step = this.kind.step(stepId);
    if (!step || !step.actions.includes(action)) throw new UserFacingError(404, 'errors.not_found');
    const decision = await this.decide(run);
    const expected = stepOf(decision);
    // A companion (a passkey beside the password) answers for the step it stands beside.
    const companion = decision.kind === 'factor' && decision.companions?.includes(step.id) === true;
    if (companion && expected) {
      const main = this.requireStep(expected.id);
      const outcome = await step.handle(this.stepContext(run, step), action, form, expected.mode);
      if (outcome.kind === 'show') {
        await this.save(run);
        await this.renderStep(run, main, expected.mode, outcome.locals ?? {}, outcome.status ?? 200);
        return;
      }
      await this.apply(run, decision, step, expected.mode, outcome, form);
      return;
    }
    if (expected?.id !== step.id) {
      await this.show(run, !run.flow.state.current);
      // A stale form: show where the flow really is (409), unless that step just finished it.
      if (run.ctx.status === 200) run.ctx.status = 409;
      return;
    }
    const outcome = await step.handle(this.stepContext(run, step), action, form, expected.mode);
    await this.apply(run, decision, step, expected.mode, outcome, form);
  }

  /**
   * A method choice: "use another method" at a challenge, or the method to set up. Only what the
   * decider offers at this step is accepted; anything else is refused with a 400.
   */
  async choose(run: R, mode: StepMode, method: string): Promise<void> {
    const decision = await this.decide(run);
    const choices = mode === 'challenge'
      ? decision.kind === 'factor' && decision.mode === 'challenge' ? decision.alternatives : []
      : decision.kind === 'choose-enrolment' ? decision.methods
        : decision.kind === 'factor' && decision.mode === 'enrol' && decision.alternatives.length > 0 ? [decision.factor, ...decision.alternatives]
          : [];
    if (!choices.includes(method)) {
      await this.show(run, false);
      run.ctx.status = 400;
      return;
    }
    const { state } = run.flow;
    if (mode === 'challenge') {
      state.chosenFactor = method;
    } else {
      // Switching methods mid-enrolment starts the new one afresh.
      state.enrolling = method;
      state.current = undefined;
      delete state.scratch[method];
    }
    await this.advance(run);
  }

  private async apply(run: R, decision: Decision, step: Step, mode: StepMode, outcome: StepOutcome, form: Form): Promise<void> {
    forgetFacts(run);
    const { state } = run.flow;
    if (outcome.kind === 'show') {
      await this.save(run);
      await this.renderStep(run, step, mode, outcome.locals ?? {}, outcome.status ?? 200);
      return;
    }
    if (outcome.kind === 'fail') {
      await this.save(run);
      await this.dispatch(run);
      render(run.ctx, 'errors/message', { portal: this.kind.chrome(run).locals.portal, messageKey: outcome.messageKey }, outcome.status);
      return;
    }
    await this.kind.afterStep?.(run, { step, mode, decision, outcome, form });
    state.current = undefined;
    if (outcome.kind === 'proved') {
      // The first factor entered again before a binding is noted, not proved twice.
      if (decision.kind === 'reauthenticate') state.reauthenticated = true;
      else this.recordProof(run, outcome.proof, outcome.account);
      if (outcome.passwordChange) state.passwordChange = outcome.passwordChange;
    }
    if (outcome.kind === 'done') {
      state.actionsDone.push(step.id);
      delete state.scratch[step.id];
      run.events.push({ type: 'action_completed', action: step.id }, ...(outcome.events ?? []));
    } else if (mode === 'enrol') {
      state.enrolledInFlow.push(step.id);
      state.enrolling = undefined;
      run.events.push({ type: 'factor_enrolled', factor: step.id });
    }
    // A step may have changed the account (a verified address, a new phone number): read it again.
    if (run.flow.accountId) run.account = (await this.services.accounts.findById(run.flow.accountId)) ?? run.account;
    forgetFacts(run);
    await this.settleStoredActions(run);
    await this.save(run);
    await this.advance(run);
  }

  /**
   * Required actions stored on the account that are done now — the page finished in this flow, or
   * the account has what the action asked for — are cleared from it; unknown ids stay.
   */
  private async settleStoredActions(run: R): Promise<void> {
    const account = run.account;
    if (!account || account.requiredActions.length === 0) return;
    const facts = await this.kind.facts(run);
    const remaining = account.requiredActions.filter((id) => !findAction(id)?.done(facts));
    if (remaining.length === account.requiredActions.length) return;
    run.account = await this.services.accounts.update(account, { requiredActions: remaining });
    forgetFacts(run);
  }

  /** Records a proof; an identifying factor also names the account of the flow from now on. */
  private recordProof(run: R, proof: Proof, account: AccountRecord | undefined): void {
    if (account) {
      run.account = account;
      run.flow.accountId = account.id;
    }
    run.flow.state.proofs.push(proof);
    run.flow.state.chosenFactor = undefined;
  }

  /** The step's view with the kind's chrome, the alternatives the decider offers there, and `extra` (errors, notices). */
  async renderStep(run: R, step: Step, mode: StepMode, extra: Record<string, unknown> = {}, status = 200): Promise<void> {
    await this.dispatch(run);
    const decision = await this.decide(run);
    const here = stepOf(decision);
    const alternatives = decision.kind === 'factor' && here?.id === step.id && here.mode === mode ? decision.alternatives : [];
    const chrome = this.kind.chrome(run);
    const scratchBefore = JSON.stringify(run.flow.state.scratch);
    const locals = await step.present(this.stepContext(run, step), mode);
    const companions = decision.kind === 'factor' && here?.id === step.id ? await this.companionParts(run, decision.companions ?? [], extra) : [];
    // Presenting may have made something the next post needs (a passkey challenge): keep it.
    if (JSON.stringify(run.flow.state.scratch) !== scratchBefore) await this.save(run);
    render(run.ctx, step.view, {
      mode,
      csrf: run.flow.csrf,
      action: (name: string) => chrome.stepAction(step.id, name),
      abortAction: chrome.abortAction,
      chooseAction: chrome.choiceAction(mode),
      account: run.account ? { username: run.account.username } : undefined,
      otherMethods: await this.kind.alternativeLabels(run, alternatives, mode),
      reauthenticate: decision.kind === 'reauthenticate' && decision.factor === step.id,
      companions,
      errors: {},
      ...chrome.locals,
      ...locals,
      ...extra,
    }, status);
  }

  /** Each companion step's part of the page, as HTML (`views/<its view>-companion.pug`). */
  private async companionParts(run: R, ids: readonly string[], extra: Record<string, unknown>): Promise<string[]> {
    const chrome = this.kind.chrome(run);
    return Promise.all(ids.map(async (id) => {
      const step = this.requireStep(id);
      const locals = await step.present(this.stepContext(run, step), 'challenge');
      return renderPartial(run.ctx, `${step.view}-companion`, {
        mode: 'challenge', csrf: run.flow.csrf, action: (name: string) => chrome.stepAction(step.id, name), errors: {}, ...chrome.locals, ...locals, ...extra,
      });
    }));
  }

  private requireStep(id: string): Step {
    const step = this.kind.step(id);
    if (!step) throw new Error(`the ${this.kind.name} decider named a step it does not have: ${id}`);
    return step;
  }
}
