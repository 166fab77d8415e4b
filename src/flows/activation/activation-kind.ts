// The activation kind (Mijn Therapie Dossier's first login, issue 9): an invited patient opens the
// link, and this flow runs the required actions that make the account usable, in the order
// decideActivationStep (pure) gives. Its steps are those actions' pages and the factors (through
// the registries); its completion creates no session at Poortwachter: it hands over to the portal
// (its `initiate_login_uri`, OIDC Core §4 third-party initiated login, where the portal starts a
// normal login), shows "U bent klaar" with a link to the portal, or, for an invitation without a
// portal, "U bent klaar" alone.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import type { Interactions } from '../../oidc/interactions.ts';
import { policyFromMetadata, type PortalPolicy } from '../../oidc/client-policy.ts';
import { allFactors, findFactor } from '../../factors/registry.ts';
import { allActions, findAction } from '../../actions/registry.ts';
import type { Decision } from '../../steps/decision.ts';
import type { Step, StepMode } from '../../steps/step.ts';
import type { FlowEvent } from '../../steps/events.ts';
import type { AccountRecord } from '../../store/port.ts';
import { render, pageState } from '../../web/render.ts';
import { UserFacingError } from '../../web/errors.ts';
import { randomId, safeEqual, sha256 } from '../../accounts/random.ts';
import { Flows, type Flow } from '../kit/flow-store.ts';
import type { FinishedStep, FlowKind, PageChrome } from '../kit/kind.ts';
import type { FlowRun } from '../kit/run.ts';
import { newKitState } from '../kit/state.ts';
import { flowFacts } from '../kit/facts.ts';
import { auditHook } from '../../hooks/registry.ts';
import { decideActivationStep, type ActivationFacts } from './decide-activation-step.ts';
import { offerHandoff } from '../kit/handoff.ts';
import type { Proof } from '../../oidc/assurance.ts';
import { ACTIVATION_KIND, UPDATE_PASSWORD, VERIFY_PHONE, type ActivationState } from './activation-state.ts';

export interface ActivationRun extends FlowRun<ActivationState> {
  /** The portal the patient was invited to, if any. */
  portal: PortalPolicy | undefined;
}

export const activationBase = (flowId: string) => `/activation/${flowId}`;
export const browserCookieName = (flowId: string) => `pw_activation_${flowId}`;

/** The policy of an invitation without a portal: the default methods, Poortwachter's name. */
const STANDALONE = policyFromMetadata({ client_id: '', client_name: 'Poortwachter' });

export class ActivationKind implements FlowKind<ActivationRun> {
  readonly name = ACTIVATION_KIND;
  readonly flows: Flows;

  constructor(
    readonly services: Services,
    private readonly interactions: Interactions,
  ) {
    this.flows = new Flows(services.store, services.clock, services.config.policy.flows);
  }

  /**
   * Starts the activation of an account whose invitation link was just accepted: the mailbox is
   * proved (the link), the account has no password yet. The browser gets a cookie the flow is
   * bound to, so the flow's URL alone is worth nothing elsewhere.
   */
  async start(ctx: Context, account: AccountRecord, clientId: string | null): Promise<Flow<ActivationState>> {
    const secret = randomId(24);
    // The link was accepted only for an account without a password (accounts/invitations.ts).
    const state: ActivationState = { ...newKitState(), browserHash: sha256(secret), provedAddresses: ['email'], passwordChange: 'initial' };
    const flow = await this.flows.create<ActivationState>(ACTIVATION_KIND, { accountId: account.id, ...(clientId ? { clientId } : {}), state });
    ctx.cookies.set(browserCookieName(flow.id), secret, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: activationBase(flow.id), signed: false, overwrite: true });
    return flow;
  }

  /** The flow of the request, only in the browser that started it. */
  async load(ctx: Context): Promise<ActivationRun> {
    const flow = await this.flows.byId<ActivationState>(ACTIVATION_KIND, ctx.params.flow ?? '');
    if (!flow || flow.expiresAt <= this.services.clock.now()) throw new UserFacingError(410, 'activation.flow_expired');
    const cookie = ctx.cookies.get(browserCookieName(flow.id), { signed: false }) ?? '';
    if (!safeEqual(sha256(cookie), flow.state.browserHash)) throw new UserFacingError(403, 'activation.other_browser');
    const portal = flow.clientId ? await this.interactions.portal(flow.clientId) : undefined;
    const account = flow.accountId ? await this.services.accounts.findById(flow.accountId) : undefined;
    if (!account || account.status !== 'active') throw new UserFacingError(410, 'activation.flow_expired');
    // The first password may be set only while there is none: an activation left open in another
    // browser must not replace the password the patient set since (without the current one).
    if (flow.state.passwordChange === 'initial' && await this.services.passwords.has(account)) throw new UserFacingError(410, 'activation.flow_expired');
    return { ctx, flow, account, policy: portal ?? STANDALONE, portal, events: [] };
  }

  async facts(run: ActivationRun): Promise<ActivationFacts> {
    const account = run.account;
    // A number that does not open as the account's (copied, damaged) is no number: asking to verify it would be a dead end.
    const phoneToVerify = run.portal?.verifyPhone === true && account !== undefined && !account.phoneVerified && this.services.accounts.phoneOf(account) !== null;
    return { ...(await flowFacts(this.services, run, undefined)), phoneToVerify, actions: allActions() };
  }

  decide(facts: ActivationFacts): Decision {
    return decideActivationStep(facts);
  }

  /** The required actions' pages and the factors, through their registries. */
  step(id: string): Step | undefined {
    return findAction(id)?.page ?? findFactor(id);
  }

  chrome(run: ActivationRun): PageChrome {
    const base = activationBase(run.flow.id);
    return {
      stepAction: (step, action) => `${base}/step/${step}/${action}`,
      abortAction: `${base}/abort`,
      choiceAction: (mode) => `${base}/${mode === 'enrol' ? 'enrol' : 'choose'}`,
      locals: { portal: run.portal, cancelKey: 'activation.cancel', rememberAllowed: false },
    };
  }

  /** While setting up: the methods' names ("Met authenticatie app", "Met e-mail"). */
  async alternativeLabels(run: ActivationRun, ids: readonly string[], _mode: StepMode): Promise<Array<{ id: string; label: string }>> {
    const { t } = pageState(run.ctx);
    return ids.map((id) => ({ id, label: t(`${id}.enrol.choice`) }));
  }

  /**
   * The first password was typed in this flow a moment ago: it stands for the "password again"
   * before the first second factor is bound. A phone proved by verify-phone counts as proved here.
   */
  async afterStep(run: ActivationRun, { step, outcome }: FinishedStep): Promise<void> {
    const { state } = run.flow;
    if (outcome.kind !== 'done') return;
    if (step.id === UPDATE_PASSWORD) {
      state.reauthenticated = true;
      state.passwordChange = undefined;
      state.passwordSetAt = this.services.clock.now();
    }
    if (step.id === VERIFY_PHONE) state.provedAddresses = [...new Set([...(state.provedAddresses ?? []), 'phone' as const])];
  }

  /** The audit trail; the password lifecycle audits and the factors audit their own changes. */
  readonly hooks = [auditHook];

  where(run: ActivationRun) {
    return { clientId: run.portal?.clientId ?? null, portal: run.portal?.name };
  }

  completedEvent(run: ActivationRun): FlowEvent {
    return { type: 'completed', detail: { portal: run.portal?.clientId ?? null, factors: run.flow.state.enrolledInFlow } };
  }

  /**
   * Done: no session is made. The portal's third-party login URI starts a normal login there (the
   * username as `login_hint`); otherwise "U bent klaar", with a link to the portal when there is one.
   */
  async complete(run: ActivationRun): Promise<void> {
    const { flow, account, portal } = run;
    await this.flows.remove(flow.id);
    run.ctx.cookies.set(browserCookieName(flow.id), null, { path: activationBase(flow.id) });
    // The portal's next login in this browser takes the new password and the factor just set up.
    // The password set here stands for the first factor (the registry's, as enrol-second-factor finds it).
    const first = allFactors().find((f) => f.role === 'first');
    if (portal && account && first && flow.state.passwordSetAt !== undefined) {
      const password: Proof = { factor: first.id, amr: ['pwd'], strength: first.strength, at: flow.state.passwordSetAt };
      await offerHandoff(this.services, run.ctx, { accountId: account.id, clientId: portal.clientId, proofs: [password, ...flow.state.proofs] });
    }
    if (portal?.initiateLoginUri) {
      const url = new URL(portal.initiateLoginUri);
      url.searchParams.set('iss', this.services.config.issuer);
      if (account) url.searchParams.set('login_hint', account.username);
      run.ctx.status = 303;
      run.ctx.redirect(url.href);
      return;
    }
    const { t } = pageState(run.ctx);
    render(run.ctx, 'flows/activation/done', { portal, portalUrl: portal?.homeUrl, pageTitle: t('activation.done.title') });
  }
}
