// The login flow: ties an oidc-provider interaction to a persisted flow, asks the step engine
// what is next, hands the step to its factor, and gives oidc-provider the login only when every
// required step passed.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import { InteractionNotFound, type Interactions, type InteractionView } from '../../oidc/interactions.ts';
import { acrRank, deriveAssurance, requiredAcr, type Proof } from '../../oidc/assurance.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { Factor, FactorContext, FactorMode } from '../../factors/factor.ts';
import { findFactor, firstFactor } from '../../factors/registry.ts';
import { acceptsMethod } from '../../oidc/client-policy.ts';
import type { SessionProofs } from '../../oidc/session-proofs.ts';
import { Flows, scratchOf, type Flow } from '../flow.ts';
import { deviceCookieName } from '../../accounts/remembered-devices.ts';
import { decideLoginStep, type LoginStep } from './decide-step.ts';
import type { FactorFacts } from '../proof-rules.ts';
import { factorFacts } from '../factor-facts.ts';
import type { PageState } from '../../web/render.ts';
import { messageLanguage } from '../../web/language.ts';

export interface LoginState {
  accountId?: string;
  proofs: Proof[];
  scratch: Record<string, Record<string, unknown>>;
  /** The step the user is on, so a reload does not re-send a code. */
  current?: { factor: string; mode: FactorMode };
  chosenFactor?: string;
  enrolling?: string;
  reauthenticated?: boolean;
  enrolledInFlow: string[];
  rememberDevice?: boolean;
  /** Whether a remembered-device cookie was looked at already in this flow. */
  deviceChecked?: boolean;
  /**
   * Started because the session's level or MFA fell short at this portal: the password comes from
   * the session, and the missing factor must be proved now — a remembered device never stands in.
   */
  stepUp?: boolean;
}

export type LoginFlow = Flow<LoginState>;

export interface LoginContext {
  interaction: InteractionView;
  flow: LoginFlow;
  account: AccountRecord | undefined;
  /** Memo of `LoginFlowEngine.facts` for this request. */
  facts?: Promise<FactorFacts[]>;
}

export class LoginFlowEngine {
  readonly flows: Flows;

  constructor(
    readonly services: Services,
    readonly interactions: Interactions,
    private readonly sessionProofs: SessionProofs,
  ) {
    this.flows = new Flows(services.store, services.clock, services.config.ttl.flow);
  }

  /** Loads (or starts) the flow of the interaction in the request. */
  async load(ctx: Context): Promise<LoginContext> {
    let interaction: InteractionView;
    try {
      interaction = await this.interactions.details(ctx);
    } catch (error) {
      // The flow outlives the interaction a little: enough to link back to the portal.
      if (error instanceof InteractionNotFound && ctx.params.uid) {
        const flow = await this.flows.byInteraction<LoginState>('login', ctx.params.uid);
        if (flow?.clientId) error.portal = await this.interactions.portal(flow.clientId);
      }
      throw error;
    }
    let flow = await this.flows.byInteraction<LoginState>('login', interaction.uid);
    if (!flow) {
      const state: LoginState = { proofs: [], scratch: {}, enrolledInFlow: [] };
      // Step-up: the session already proved the password; ask only for what is missing. The
      // password proof keeps its own time (a session without a record: unknown, so never recent).
      // With max_age, only a password that recent now may be reused: max_age is measured from this
      // login's start, so an older one would be refused when the login returns (proof-rules.ts)
      // after the patient typed the code; it is asked again at once instead.
      const stepUpOnly = interaction.reasons.length > 0 && interaction.reasons.every((r) => r === 'acr_too_weak' || r === 'mfa_required');
      const first = firstFactor();
      const recorded = stepUpOnly && interaction.sessionUid && interaction.sessionAccountId
        ? await this.sessionProofs.find(interaction.sessionUid, interaction.sessionAccountId) : undefined;
      const password = recorded?.find((p) => p.factor === first.id);
      const recentEnough = interaction.maxAgeSeconds === undefined || (password !== undefined && password.at >= this.services.clock.now() - interaction.maxAgeSeconds * 1000);
      if (stepUpOnly && interaction.sessionAccountId && recentEnough) {
        state.accountId = interaction.sessionAccountId;
        state.stepUp = true;
        state.proofs.push(password ?? { factor: first.id, amr: [...first.amr], strength: first.strength, at: 0 });
      }
      flow = await this.flows.create<LoginState>('login', { interactionUid: interaction.uid, clientId: interaction.policy.clientId, accountId: state.accountId, state });
    }
    const account = flow.state.accountId ? await this.services.accounts.findById(flow.state.accountId) : undefined;
    return { interaction, flow, account };
  }

  factorContext(ctx: Context, login: LoginContext, factor: Factor): FactorContext {
    const page = ctx.state.page as PageState;
    return {
      services: this.services,
      policy: login.interaction.policy,
      account: login.account,
      scratch: scratchOf(login.flow.state.scratch, factor.id),
      lang: page.lang,
      t: page.t,
      messageLang: messageLanguage(ctx, login.account?.locale),
      ip: ctx.ip || null,
      flowId: login.flow.id,
    };
  }

  /**
   * What each factor is for this account. Read once per request (the engine, "other methods" and
   * the method choice all ask); `forgetFacts` after a factor ran, as it may have enrolled one.
   */
  facts(login: LoginContext): Promise<FactorFacts[]> {
    login.facts ??= factorFacts(this.services, login.account);
    return login.facts;
  }

  forgetFacts(login: LoginContext): void {
    login.facts = undefined;
  }

  async decide(login: LoginContext): Promise<LoginStep> {
    const { flow, account, interaction } = login;
    return decideLoginStep({
      proofs: flow.state.proofs,
      policy: interaction.policy,
      requiredAcr: requiredAcr(interaction.requestedAcr, interaction.policy.minAcr),
      factors: await this.facts(login),
      chosenFactor: flow.state.chosenFactor,
      defaultFactor: typeof account?.settings.defaultFactor === 'string' ? account.settings.defaultFactor : undefined,
      enrolling: flow.state.enrolling,
      reauthenticated: flow.state.reauthenticated === true,
      enrolledInFlow: flow.state.enrolledInFlow,
    });
  }

  /** Records a proof; a remembered device may then stand in for the second factor. */
  recordProof(login: LoginContext, proof: Proof, account?: AccountRecord): void {
    if (account) {
      login.account = account;
      this.forgetFacts(login);
      login.flow.state.accountId = account.id;
      login.flow.accountId = account.id;
    }
    login.flow.state.proofs.push(proof);
    login.flow.state.current = undefined;
    login.flow.state.chosenFactor = undefined;
  }

  save(login: LoginContext): Promise<void> {
    return this.flows.save(login.flow);
  }

  /**
   * After the password: a remembered device stands in for the second factor it remembered, with
   * exactly what that factor proved then, marked as replayed. Looked at once per flow; never at a
   * portal that forbids it, never in a step-up (that is for a fresh proof), and never when the
   * request demands a level the password does not reach: such a level is proved now, whether or
   * not the browser brought a session (proof-rules.ts `shortfalls` counts only fresh proofs
   * towards it). A portal's own policy (`mfa`, `min_acr`) still takes the device where allowed.
   */
  async applyRememberedDevice(ctx: Context, login: LoginContext): Promise<void> {
    const { state } = login.flow;
    if (state.deviceChecked || state.stepUp || !login.account || !login.interaction.policy.rememberDevice) return;
    const demanded = requiredAcr(login.interaction.requestedAcr);
    if (demanded && acrRank(deriveAssurance(state.proofs.filter((p) => !p.replayed)).acr) < acrRank(demanded)) return;
    if (state.proofs.length !== 1 || state.proofs[0]!.factor !== firstFactor().id) return;
    state.deviceChecked = true;
    const found = await this.services.devices.recognise(login.account, ctx.cookies.get(deviceCookieName(login.account.id), { signed: false }));
    // Only a second factor this portal accepts, and that the account still has, may be replayed.
    const factor = findFactor(found?.proof.factor ?? '');
    const allowed = factor?.role === 'second' && acceptsMethod(login.interaction.policy, factor.id) && (await factor.isEnrolled(this.services, login.account));
    if (!found || !allowed) return;
    state.proofs.push({ ...found.proof, at: this.services.clock.now(), replayed: true });
    await this.services.audit.record({ type: 'login.remembered_device', accountId: login.account.id, clientId: login.interaction.policy.clientId, ip: ctx.ip, detail: { device: found.device.id } });
  }

  private async rememberDevice(ctx: Context, login: LoginContext, acr: string): Promise<void> {
    // Recovery codes are a way back in, not something to remember a device by; a replayed proof
    // does not remember the device anew.
    const second = [...login.flow.state.proofs].reverse().find((p) => findFactor(p.factor)?.role === 'second' && !p.replayed);
    if (!login.flow.state.rememberDevice || !login.interaction.policy.rememberDevice || !login.account || !second) return;
    const label = String(ctx.get('user-agent') || 'browser').slice(0, 120);
    const issued = await this.services.devices.remember(login.account, { factor: second.factor, amr: [...second.amr], strength: second.strength }, acr, label);
    if (!issued) return;
    ctx.cookies.set(deviceCookieName(login.account.id), issued.value, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, maxAge: issued.maxAgeMs, signed: false, overwrite: true });
  }

  /** The result handed to oidc-provider; only called when the engine says `done`. */
  async finish(ctx: Context, login: LoginContext): Promise<string> {
    const { acr, amr } = deriveAssurance(login.flow.state.proofs);
    const accountId = login.flow.state.accountId;
    if (!accountId) throw new Error('finish without an account');
    await this.rememberDevice(ctx, login, acr);
    await this.services.audit.record({ type: 'login.completed', accountId, clientId: login.interaction.policy.clientId, ip: ctx.ip, detail: { acr, amr } });
    const url = await this.interactions.finishLogin(ctx, { accountId, acr, amr, remember: true, proofs: login.flow.state.proofs, startedAt: login.flow.createdAt });
    await this.flows.remove(login.flow.id);
    return url;
  }

  findFactor(id: string): Factor | undefined {
    return findFactor(id);
  }
}
