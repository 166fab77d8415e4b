// The recovery kind: self-service password reset and account unlock (issue 9; Flynth's "Wachtwoord
// vergeten of account vergrendeld?", ZINN's "Wachtwoord vergeten?"). Its decider is
// decideRecoveryStep (pure); its steps are its own pages plus the factors, reused through the
// registry in challenge mode; its completion never creates a login session: it lifts the lock or
// reports the new password, and sends the patient back to the portal's login.
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import type { Services } from '../../services.ts';
import type { Interactions } from '../../oidc/interactions.ts';
import { policyFromMetadata, type PortalPolicy } from '../../oidc/client-policy.ts';
import { findFactor } from '../../factors/registry.ts';
import type { Decision } from '../../steps/decision.ts';
import type { Step, StepMode } from '../../steps/step.ts';
import { render, pageState } from '../../web/render.ts';
import { UserFacingError } from '../../web/errors.ts';
import { randomId, safeEqual } from '../../accounts/random.ts';
import { Flows, scratchOf, type Flow } from '../kit/flow-store.ts';
import type { FlowKind, PageChrome } from '../kit/kind.ts';
import type { FlowRun } from '../kit/run.ts';
import { FLOW_SCRATCH } from '../kit/runner.ts';
import { newKitState } from '../kit/state.ts';
import { flowFacts } from '../kit/facts.ts';
import { auditHook, clearLockHook, notifyHook, revokeHook } from '../../hooks/registry.ts';
import { LOGIN_KIND } from '../login/login-kind.ts';
import { channelProved, decideRecoveryStep, type RecoveryFacts } from './decide-recovery-step.ts';
import { factorFacts } from '../kit/factor-facts.ts';
import { NEW_PASSWORD, RECOVERY_KIND, shared, type RecoveryState } from './recovery-state.ts';
import { identifyStep } from './steps/identify-step.ts';
import { chooseStep } from './steps/choose-step.ts';
import { verifyStep } from './steps/verify-step.ts';
import { newPasswordStep } from './steps/new-password-step.ts';

export interface RecoveryRun extends FlowRun<RecoveryState> {
  /** The portal the recovery started from, if any (a recovery may start on its own). */
  portal: PortalPolicy | undefined;
}

export const recoveryBase = (flowId: string) => `/recovery/${flowId}`;
export const browserCookieName = (flowId: string) => `pw_recovery_${flowId}`;

/** The policy of a recovery started without a portal: the default methods, Poortwachter's name. */
const STANDALONE = policyFromMetadata({ client_id: '', client_name: 'Poortwachter' });

const OWN_STEPS: readonly Step[] = [identifyStep, chooseStep, verifyStep, newPasswordStep];

const hashOf = (value: string) => createHash('sha256').update(value).digest('base64url');

export class RecoveryKind implements FlowKind<RecoveryRun> {
  readonly name = RECOVERY_KIND;
  readonly flows: Flows;

  constructor(
    readonly services: Services,
    private readonly interactions: Interactions,
  ) {
    this.flows = new Flows(services.store, services.clock, services.config.policy.flows);
  }

  /**
   * Starts a recovery: from a login page (`interaction`: the portal comes from its flow), or on its
   * own with the deployment's defaults. The browser gets a cookie the flow is bound to.
   *
   * A portal is taken only from a login flow of that portal (review of issue 9, finding 7): a
   * `?client=<id>` named in a link picked any portal's recovery methods (ZINN's temporary password,
   * say) and its brand for whoever made the link. Accepting it for accounts that signed in there
   * would need the account, which is known only after "Wie bent u?", and switching methods or brand
   * then would tell who has an account there. So a name alone is ignored.
   */
  async start(ctx: Context, from: { interaction?: string }): Promise<Flow<RecoveryState>> {
    let clientId: string | undefined;
    let returnUid: string | undefined;
    if (from.interaction) {
      const login = await this.flows.byInteraction(LOGIN_KIND, from.interaction);
      if (login?.clientId) {
        clientId = login.clientId;
        returnUid = from.interaction;
      }
    }
    const secret = randomId(24);
    const state: RecoveryState = { ...newKitState(), browserHash: hashOf(secret), ...(returnUid ? { returnUid } : {}) };
    const flow = await this.flows.create<RecoveryState>(RECOVERY_KIND, { clientId, state });
    ctx.cookies.set(browserCookieName(flow.id), secret, { httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: recoveryBase(flow.id), signed: false, overwrite: true });
    return flow;
  }

  /** The flow of the request, only in the browser that started it. */
  async load(ctx: Context): Promise<RecoveryRun> {
    const id = ctx.params.flow ?? '';
    const flow = await this.flows.byId<RecoveryState>(RECOVERY_KIND, id);
    if (!flow || flow.expiresAt <= this.services.clock.now()) throw new UserFacingError(410, 'forgot.errors.flow_expired');
    const cookie = ctx.cookies.get(browserCookieName(flow.id), { signed: false }) ?? '';
    if (!safeEqual(hashOf(cookie), flow.state.browserHash)) throw new UserFacingError(403, 'forgot.errors.other_browser');
    const portal = flow.clientId ? await this.interactions.portal(flow.clientId) : undefined;
    const account = flow.accountId ? await this.services.accounts.findById(flow.accountId) : undefined;
    return { ctx, flow, account, policy: portal ?? STANDALONE, portal, events: [] };
  }

  /**
   * The kit's facts, but the account's factors only once a channel is proved: until then the
   * decider needs none, and reading them only for a real account made its answers measurably
   * slower than an unknown name's (review of issue 9, finding 3: choose 20 against 15 ms).
   */
  async facts(run: RecoveryRun): Promise<RecoveryFacts> {
    const bag = scratchOf(run.flow.state.scratch, FLOW_SCRATCH);
    const channel = shared.channel(bag);
    const proved = channelProved(run.flow.state.proofs, channel);
    if (!proved) run.factorFacts ??= factorFacts(this.services, undefined);
    const hardLocked = proved && run.account ? (await this.services.lockout.status(run.account)).state === 'hard-locked' : false;
    return { ...(await flowFacts(this.services, run, undefined)), reason: shared.reason(bag), channel, hardLocked };
  }

  decide(facts: RecoveryFacts): Decision {
    return decideRecoveryStep(facts);
  }

  /** Its own pages, and the factors (challenge mode) through the registry. */
  step(id: string): Step | undefined {
    return OWN_STEPS.find((s) => s.id === id) ?? findFactor(id);
  }

  chrome(run: RecoveryRun): PageChrome {
    const base = recoveryBase(run.flow.id);
    return {
      stepAction: (step, action) => `${base}/step/${step}/${action}`,
      abortAction: `${base}/abort`,
      choiceAction: () => `${base}/choose`,
      locals: { portal: run.portal, cancelKey: 'forgot.cancel', rememberAllowed: false, recovery: true },
    };
  }

  async alternativeLabels(run: RecoveryRun, ids: readonly string[], _mode: StepMode): Promise<Array<{ id: string; label: string }>> {
    const { t } = pageState(run.ctx);
    const account = run.account;
    if (!account) return [];
    return Promise.all(ids.map(async (id) => ({ id, label: await findFactor(id)!.describe(this.services, account, t) })));
  }

  /**
   * Audit, the password-changed notice, remembered devices forgotten, the lock lifted (the
   * lifecycle's reset itself ends every session, grant and token of the account).
   */
  readonly hooks = [auditHook, notifyHook, revokeHook, clearLockHook];

  where(run: RecoveryRun) {
    return { clientId: run.portal?.clientId ?? null, portal: run.portal?.name };
  }

  /** Where "back to the login" goes: the interaction's login while it lives, else the portal's home. */
  async returnUrl(flow: Flow<RecoveryState>, portal: PortalPolicy | undefined): Promise<string | undefined> {
    const uid = flow.state.returnUid;
    if (uid) {
      const login = await this.flows.byInteraction(LOGIN_KIND, uid);
      const alive = login && login.createdAt + this.services.config.policy.flows.ttlSeconds * 1000 > this.services.clock.now();
      if (alive) return `/interaction/${uid}`;
    }
    return portal?.homeUrl;
  }

  /** Done: unlock lifts the lock; a reset was applied by its step. No session: back to the login. */
  async complete(run: RecoveryRun): Promise<void> {
    const { flow, account } = run;
    if (!account) throw new Error('recovery completed without an account');
    const reason = shared.reason(scratchOf(flow.state.scratch, FLOW_SCRATCH));
    if (reason === 'unlock') {
      const before = await this.services.lockout.unlock(account);
      await this.services.audit.record({
        type: 'account-recovery.unlocked', accountId: account.id, clientId: run.portal?.clientId ?? null, ip: run.ctx.ip || null,
        actor: 'patient', userAgent: run.ctx.get('user-agent').slice(0, 200) || null, detail: { before: before.state, outcome: 'unlocked' },
      });
    }
    // A hard-locked account's unlock set a new password (the decider asked it): say that, not "unlocked".
    const shown = flow.state.actionsDone.includes(NEW_PASSWORD) ? 'reset' : reason;
    const back = await this.returnUrl(flow, run.portal);
    // The login flow it came from starts afresh: nothing proved there before the recovery counts.
    if (flow.state.returnUid) {
      const login = await this.flows.byInteraction(LOGIN_KIND, flow.state.returnUid);
      if (login) await this.flows.remove(login.id);
    }
    // A new password cancels every other flow of the account (review of issue 9, finding 5): other
    // recoveries (a link mailed to another browser's flow must not set a second password), logins
    // paused after the old password, enrolments on /account. Their codes were bound to them.
    if (shown === 'reset') await this.services.store.flows.removeByAccount(account.id, flow.id);
    await this.flows.remove(flow.id);
    run.ctx.cookies.set(browserCookieName(flow.id), null, { path: recoveryBase(flow.id) });
    render(run.ctx, 'flows/recovery/done', { portal: run.portal, reason: shown, backUrl: back, pageTitle: pageState(run.ctx).t(`forgot.done.${shown}_title`) });
  }
}
