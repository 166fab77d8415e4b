// The login kind: an oidc-provider interaction tied to a persisted flow. Its decider is
// decideLoginStep (pure); its steps are the factors (and the required actions' pages); its
// completion hands oidc-provider the login — only when the decider says `done`, so a password
// alone never creates a session when a second factor is due.
import type { Context } from 'koa';
import { takeHandoff } from '../kit/handoff.ts';
import type { Services } from '../../services.ts';
import { InteractionNotFound, type Interactions, type InteractionView } from '../../oidc/interactions.ts';
import { acrRank, deriveAssurance, requiredAcr, type Proof } from '../../oidc/assurance.ts';
import { acceptsMethod } from '../../oidc/client-policy.ts';
import type { SessionProofs } from '../../oidc/session-proofs.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';
import { factorsFor, findFactor } from '../../factors/registry.ts';
import { deviceCookieName } from '../../accounts/remembered-devices.ts';
import type { Decision } from '../../steps/decision.ts';
import type { Step, StepMode } from '../../steps/step.ts';
import { pageState } from '../../web/render.ts';
import { Flows, type Flow } from '../kit/flow-store.ts';
import type { FinishedStep, FlowKind, PageChrome } from '../kit/kind.ts';
import type { FlowRun } from '../kit/run.ts';
import { newKitState, type KitState } from '../kit/state.ts';
import { flowFacts, forgetFacts } from '../kit/facts.ts';
import { allActions, findAction } from '../../actions/registry.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import { auditHook, clearLockHook, notifyHook } from '../../hooks/registry.ts';
import type { FlowEvent } from '../../steps/events.ts';
import { decideLoginStep } from './decide-step.ts';

export interface LoginState extends KitState {
  rememberDevice?: boolean;
  /** Whether a remembered-device cookie was looked at already in this flow. */
  deviceChecked?: boolean;
  /**
   * Started because the session's level or MFA fell short at this portal: the password comes from
   * the session, and the missing factor must be proved now — a remembered device never stands in.
   */
  stepUp?: boolean;
}

export interface LoginRun extends FlowRun<LoginState> {
  interaction: InteractionView;
}

export const LOGIN_KIND = 'login';

/** Where the login's pages post: under /interaction/:uid, the path oidc-provider scopes its interaction cookie to. */
export const loginBase = (uid: string) => `/interaction/${uid}`;

export class LoginKind implements FlowKind<LoginRun> {
  readonly name = LOGIN_KIND;
  readonly flows: Flows;

  constructor(
    readonly services: Services,
    readonly interactions: Interactions,
    private readonly sessionProofs: SessionProofs,
  ) {
    this.flows = new Flows(services.store, services.clock, services.config.policy.flows);
  }

  /** Loads (or starts) the flow of the interaction in the request. */
  async load(ctx: Context): Promise<LoginRun> {
    let interaction: InteractionView;
    try {
      interaction = await this.interactions.details(ctx);
    } catch (error) {
      // The flow outlives the interaction a little: enough to link back to the portal.
      if (error instanceof InteractionNotFound && ctx.params.uid) {
        const flow = await this.flows.byInteraction<LoginState>(LOGIN_KIND, ctx.params.uid);
        if (flow?.clientId) error.portal = await this.interactions.portal(flow.clientId);
      }
      throw error;
    }
    let flow = await this.flows.byInteraction<LoginState>(LOGIN_KIND, interaction.uid);
    if (!flow) flow = await this.start(interaction, ctx);
    const account = flow.accountId ? await this.services.accounts.findById(flow.accountId) : undefined;
    return { ctx, interaction, flow, account, policy: interaction.policy, events: [] };
  }

  private async start(interaction: InteractionView, ctx: Context): Promise<Flow<LoginState>> {
    const state: LoginState = newKitState();
    let accountId: string | undefined;
    // Step-up: the session already identified the patient; ask only for what is missing. The
    // session's identifying proof (its first: the password, or a passkey used without one) is
    // seeded with its own time and what it proved — a passkey's multi-factor and phishing-resistant
    // marks too; a session without a record seeds the first factor's page as proved at an unknown
    // time, so never recent. With max_age, only an identifying proof that recent now may be reused:
    // max_age is measured from this login's start, so an older one would be refused when the login
    // returns (policy/proof-rules.ts) after the patient typed the code; it is asked again at once.
    const stepUpOnly = interaction.reasons.length > 0 && interaction.reasons.every((r) => r === 'acr_too_weak' || r === 'mfa_required');
    const firsts = factorsFor('first');
    const recorded = stepUpOnly && interaction.sessionUid && interaction.sessionAccountId
      ? await this.sessionProofs.find(interaction.sessionUid, interaction.sessionAccountId) : undefined;
    const identifying = recorded?.[0] && firsts.some((f) => f.id === recorded[0]!.factor) ? recorded[0] : undefined;
    const recentEnough = interaction.maxAgeSeconds === undefined || (identifying !== undefined && identifying.at >= this.services.clock.now() - interaction.maxAgeSeconds * 1000);
    const page = firsts[0];
    if (stepUpOnly && interaction.sessionAccountId && recentEnough && page) {
      accountId = interaction.sessionAccountId;
      state.stepUp = true;
      state.proofs.push(identifying ?? { factor: page.id, amr: [], strength: page.strength, at: 0 });
    }
    // Just activated in this browser (flows/kit/handoff.ts): what the activation
    // proved stands, unless the portal wants a fresh login or the browser has a session already.
    if (!accountId && !interaction.sessionAccountId && !interaction.reasons.includes('login_prompt')) {
      const hint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint : undefined;
      const handoff = await takeHandoff(this.services, ctx, interaction.policy.clientId, hint);
      const maxAge = interaction.maxAgeSeconds;
      const fresh = handoff && (maxAge === undefined || handoff.proofs.every((p) => p.at >= this.services.clock.now() - maxAge * 1000));
      if (handoff && fresh) {
        accountId = handoff.accountId;
        state.proofs.push(...handoff.proofs);
      }
    }
    return this.flows.create<LoginState>(LOGIN_KIND, { interactionUid: interaction.uid, clientId: interaction.policy.clientId, accountId, state });
  }

  /** The level the request and the portal demand is the login's own fact. */
  facts(run: LoginRun): Promise<FlowFacts> {
    return flowFacts(this.services, run, requiredAcr(run.interaction.requestedAcr, run.interaction.policy.minAcr));
  }

  decide(facts: FlowFacts): Decision {
    return decideLoginStep({ ...facts, actions: allActions() });
  }

  /** A factor, or a required action's own page. */
  step(id: string): Step | undefined {
    return findFactor(id) ?? findAction(id)?.page;
  }

  chrome(run: LoginRun): PageChrome {
    const base = loginBase(run.interaction.uid);
    const { policy } = run.interaction;
    return {
      stepAction: (step, action) => `${base}/step/${step}/${action}`,
      abortAction: `${base}/abort`,
      choiceAction: (mode) => `${base}/${mode === 'enrol' ? 'enrol' : 'choose'}`,
      locals: {
        uid: run.interaction.uid,
        portal: policy,
        // The account page's own login has no portal to go back to.
        cancelKey: policy.clientId === ACCOUNT_CLIENT_ID ? 'common.cancel_login' : undefined,
        rememberAllowed: policy.rememberDevice && run.account !== undefined && this.services.devices.durationFor(run.account) > 0,
      },
    };
  }

  /** At a challenge the account's other methods, described ("Sms naar *****16"); while enrolling their names. */
  async alternativeLabels(run: LoginRun, ids: readonly string[], mode: StepMode): Promise<Array<{ id: string; label: string }>> {
    const { t } = pageState(run.ctx);
    if (mode === 'enrol') return ids.map((id) => ({ id, label: t(`${id}.enrol.choice`) }));
    const account = run.account;
    if (!account) return [];
    return Promise.all(ids.map(async (id) => ({ id, label: await findFactor(id)!.describe(this.services, account, t) })));
  }

  /**
   * After the password: a remembered device stands in for the second factor it remembered, with
   * exactly what that factor proved then, marked as replayed. Looked at once per flow; never at a
   * portal that forbids it, never in a step-up (that is for a fresh proof), and never when the
   * request demands a level the password does not reach: such a level is proved now, whether or
   * not the browser brought a session (policy/proof-rules.ts `shortfalls` counts only fresh proofs
   * towards it). A portal's own policy (`mfa`, `min_acr`) still takes the device where allowed.
   */
  async beforeDecide(run: LoginRun): Promise<void> {
    const { state } = run.flow;
    if (state.deviceChecked || state.stepUp || !run.account || !run.interaction.policy.rememberDevice) return;
    const demanded = requiredAcr(run.interaction.requestedAcr);
    if (demanded && acrRank(deriveAssurance(state.proofs.filter((p) => !p.replayed)).acr) < acrRank(demanded)) return;
    // Only right after an identifying proof that needs a second factor: a passkey that verified
    // the patient is multi-factor already, and no device replays over it.
    const identifying = state.proofs[0];
    if (state.proofs.length !== 1 || !identifying || identifying.multiFactor || !factorsFor('first').some((f) => f.id === identifying.factor)) return;
    state.deviceChecked = true;
    const found = await this.services.devices.recognise(run.account, run.ctx.cookies.get(deviceCookieName(run.account.id), { signed: false }));
    // Only a second factor this portal accepts, and that the account still has, may be replayed.
    const factor = findFactor(found?.proof.factor ?? '');
    const allowed = factor?.role === 'second' && acceptsMethod(run.interaction.policy, factor.id) && (await factor.isEnrolled(this.services, run.account));
    if (!found || !allowed) return;
    state.proofs.push({ ...found.proof, at: this.services.clock.now(), replayed: true });
    forgetFacts(run);
    run.events.push({ type: 'remembered_device', device: found.device.id });
  }

  async afterStep(run: LoginRun, { step, mode, outcome, form }: FinishedStep): Promise<void> {
    const factor = findFactor(step.id);
    // A second factor set up in this login (only ever one the account lacked): the patient hears of it.
    if (mode === 'enrol' && factor?.role === 'second' && run.account) run.events.push({ type: 'authenticator_bound', factor: factor.id, replaced: false, before: run.account });
    if (outcome.kind === 'proved' && factor && factor.role !== 'first' && form.remember_device === 'on') run.flow.state.rememberDevice = true;
  }

  /** Audit, notices; a forced password change also lifts a lock. Remembered devices stay: a login only adds. */
  readonly hooks = [auditHook, notifyHook, clearLockHook];

  where(run: LoginRun) {
    return { clientId: run.interaction.policy.clientId, portal: run.interaction.policy.name };
  }

  completedEvent(run: LoginRun): FlowEvent {
    return { type: 'completed', detail: deriveAssurance(run.flow.state.proofs) };
  }

  /** The result handed to oidc-provider; only when the decider says `done`. */
  async complete(run: LoginRun): Promise<void> {
    const { acr, amr } = deriveAssurance(run.flow.state.proofs);
    const accountId = run.flow.accountId;
    if (!accountId) throw new Error('login completed without an account');
    await this.rememberDevice(run, acr);
    // The portals an account signs in to are whose password profiles its next password must meet.
    const { clientId } = run.interaction.policy;
    if (clientId !== ACCOUNT_CLIENT_ID) await this.services.store.accountPortals.record(accountId, clientId, this.services.clock.now());
    const url = await this.interactions.finishLogin(run.ctx, { accountId, acr, amr, remember: true, proofs: run.flow.state.proofs, startedAt: run.flow.createdAt });
    await this.flows.remove(run.flow.id);
    run.ctx.status = 303;
    run.ctx.redirect(url);
  }

  private async rememberDevice(run: LoginRun, acr: string): Promise<void> {
    const { ctx, account, flow } = run;
    // Recovery codes are a way back in, not something to remember a device by; a replayed proof
    // does not remember the device anew.
    // Never the identifying proof (a passkey used without a password): a device stands in only for a second factor.
    const second = [...flow.state.proofs.slice(1)].reverse().find((p: Proof) => findFactor(p.factor)?.role === 'second' && !p.replayed);
    if (!flow.state.rememberDevice || !run.interaction.policy.rememberDevice || !account || !second) return;
    const label = String(ctx.get('user-agent') || 'browser').slice(0, 120);
    const issued = await this.services.devices.remember(account, { factor: second.factor, amr: [...second.amr], strength: second.strength }, acr, label);
    if (!issued) return;
    ctx.cookies.set(deviceCookieName(account.id), issued.value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: issued.maxAgeMs, signed: false, overwrite: true });
  }
}
