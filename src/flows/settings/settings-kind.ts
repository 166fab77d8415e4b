// The settings kind: the patient's own /account page. Its home is the overview (which methods are
// set up, the default one, remembered devices, each factor's settings part); its steps are the
// factors in enrol mode, to add or replace a method, followed by the recovery codes after a first
// second factor. Its completion shows the overview again, saying what was set up.
import type { Context } from 'koa';
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';
import { allFactors, findFactor } from '../../factors/registry.ts';
import type { Decision } from '../../steps/decision.ts';
import type { Step } from '../../steps/step.ts';
import { pageState, render } from '../../web/render.ts';
import { Flows, type Flow } from '../kit/flow-store.ts';
import type { FinishedStep, FlowKind, PageChrome } from '../kit/kind.ts';
import type { FlowRun } from '../kit/run.ts';
import { newKitState, type KitState } from '../kit/state.ts';
import { flowFacts } from '../kit/facts.ts';
import { allActions, findAction } from '../../actions/registry.ts';
import type { FlowFacts } from '../../steps/facts.ts';
import { auditHook, notifyHook, revokeHook } from '../../hooks/registry.ts';
import { decideSettingsStep } from './decide-settings-step.ts';
import type { AccountSessions } from '../../oidc/account-sessions.ts';
import { describeUserAgent } from '../../accounts/device-description.ts';
import { maskPhone } from '../../log.ts';
import { activityLines } from './activity.ts';
import { consoleSections } from './sections.ts';
import type { ReturnLink } from './return-link.ts';

export interface SettingsState extends KitState {
  /**
   * Who started the enrolment in progress, and when: it may finish in this flow (the recovery
   * codes included) even though the new factor makes the session "too weak" for the page.
   */
  enrolment?: { sessionUid: string; startedAt: number; factor: string; replacing: boolean };
  /** A line for the overview the next time it is shown ("Opgeslagen."). */
  notice?: string;
}

export interface SettingsRun extends FlowRun<SettingsState> {
  account: AccountRecord;
  /** The oidc-provider session the patient is signed in with. */
  sessionUid: string;
}

export const SETTINGS_KIND = 'settings';

export class SettingsKind implements FlowKind<SettingsRun> {
  readonly name = SETTINGS_KIND;
  readonly flows: Flows;

  constructor(
    readonly services: Services,
    /** Where the patient is signed in (oidc/), for "Portalen en sessies". */
    readonly accountSessions: AccountSessions,
    /** "Terug naar <portal>": the validated return link the patient came with, if any. */
    private readonly returnLink: (ctx: Context) => Promise<ReturnLink | undefined>,
  ) {
    this.flows = new Flows(services.store, services.clock, services.config.policy.flows);
  }

  /** A new settings flow for the overview page: its forms post to it. */
  create(account: AccountRecord): Promise<Flow<SettingsState>> {
    return this.flows.create<SettingsState>(SETTINGS_KIND, { accountId: account.id, state: newKitState() });
  }

  /** No level is demanded here: the page's own demands were met before the flow began (settings-routes.ts). */
  facts(run: SettingsRun): Promise<FlowFacts> {
    return flowFacts(this.services, run, undefined);
  }

  decide(facts: FlowFacts): Decision {
    return decideSettingsStep({ ...facts, actions: allActions().filter((a) => a.scope === 'any') });
  }

  /** A factor, or the own page of an action that runs in every flow. */
  step(id: string): Step | undefined {
    const action = findAction(id);
    return findFactor(id) ?? (action?.scope === 'any' ? action.page : undefined);
  }

  chrome(run: SettingsRun): PageChrome {
    const base = `/account/enrol/${run.flow.id}`;
    return {
      stepAction: (step, action) => `${base}/step/${step}/${action}`,
      abortAction: `${base}/cancel`,
      choiceAction: () => '/account',
      locals: { portal: undefined, rememberAllowed: false },
    };
  }

  async alternativeLabels(): Promise<Array<{ id: string; label: string }>> {
    return [];
  }

  /** A second factor set up or set up again here: the patient is told, and remembered devices go (hooks). */
  async afterStep(run: SettingsRun, { step, mode }: FinishedStep): Promise<void> {
    if (mode !== 'enrol' || findFactor(step.id)?.role !== 'second') return;
    run.events.push({ type: 'authenticator_bound', factor: step.id, replaced: run.flow.state.enrolment?.replacing === true, before: run.account });
  }

  /** Audit, notices, and revocation: a factor set up again or removed must not live on in a remembered device. */
  readonly hooks = [auditHook, notifyHook, revokeHook];

  where() {
    return { clientId: null, portal: undefined };
  }

  /** Back on the overview; it names the method the patient set up, also when its recovery codes came last. */
  async complete(run: SettingsRun): Promise<void> {
    const { state } = run.flow;
    if (state.enrolment) {
      const { t } = pageState(run.ctx);
      state.notice = t('settings.notice.enrolled', { method: t(`settings.method.${state.enrolment.factor}`) });
    }
    this.reset(run.flow);
    await this.overview(run.ctx, run.account, run.flow);
  }

  /** Ends whatever was being set up in this flow: the overview's forms start afresh. */
  reset(flow: Flow<SettingsState>): void {
    flow.state = { ...newKitState(), notice: flow.state.notice };
  }

  /** The overview page; a new flow for its forms when none is given. */
  async overview(ctx: Context, account: AccountRecord, flow?: Flow<SettingsState>, status = 200, extra: Record<string, unknown> = {}): Promise<void> {
    const { services } = this;
    const { t, lang } = pageState(ctx);
    const now = services.clock.now();
    flow ??= await this.create(account);
    const notice = flow.state.notice;
    flow.state.notice = undefined;
    await this.flows.save(flow);
    const own = new Set((await services.store.credentials.listByAccount(account.id)).map((c) => c.type));
    const methods = await Promise.all(allFactors().filter((f) => f.role === 'second').map(async (f) => ({
      id: f.id,
      enrolled: await f.isEnrolled(services, account),
      // Only a method with a credential of its own can be removed on its own (a phone call, for
      // one, comes with the SMS number and goes with it).
      removable: own.has(f.id),
      label: await f.describe(services, account, t),
      name: t(`settings.method.${f.id}`),
    })));
    const parts = (await Promise.all(allFactors().map(async (f) => {
      const summary = await f.settings?.summary(services, account, t);
      return summary ? { factor: f.id, ...summary } : undefined;
    }))).filter((p) => p !== undefined);
    const when = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Amsterdam' });
    const devices = (await services.devices.list(account.id)).map((d) => {
      const { browser, os } = describeUserAgent(d.label);
      return {
        id: d.id,
        name: browser && os ? t('settings.devices.browser_on_os', { browser, os }) : browser ?? os ?? t('settings.devices.unknown'),
        firstUsed: when.format(d.createdAt),
        lastUsed: d.lastUsedAt === null ? t('settings.devices.not_used_since') : when.format(d.lastUsedAt),
        until: when.format(d.expiresAt),
      };
    });
    const portals = (await this.accountSessions.portals(account.id)).map((p) => ({ ...p, lastSignIn: p.lastSignInAt === null ? undefined : when.format(p.lastSignInAt) }));
    const names = new Map(portals.map((p) => [p.clientId, p.name]));
    const portalName = (clientId: string | null): string => {
      if (clientId === null || clientId === ACCOUNT_CLIENT_ID) return t('settings.activity.account_page');
      return names.get(clientId) ?? clientId;
    };
    // Names of portals the patient is no longer signed in at still come from the registry.
    const { accountPage } = services.config.policy;
    const events = await services.store.audit.list({ accountId: account.id, limit: 200 });
    for (const clientId of new Set(events.map((e) => e.clientId))) {
      if (clientId === null || names.has(clientId)) continue;
      const client = await services.store.clients.find(clientId);
      names.set(clientId, typeof client?.metadata.client_name === 'string' ? client.metadata.client_name : clientId);
    }
    const activity = activityLines(events, now - accountPage.activityDays * 24 * 3600_000, portalName, t).map((line) => ({ ...line, when: when.format(line.at) }));
    // The number is changed by setting a phone factor up again (settings-routes.ts): only where one
    // is set up. Elsewhere the patient adds SMS as a method, knowingly, under Tweestapsverificatie.
    const phoneFactors = new Set(allFactors().filter((f) => f.address === 'phone').map((f) => f.id));
    const phoneMethodEnrolled = methods.some((m) => m.enrolled && phoneFactors.has(m.id));
    render(ctx, 'flows/settings', {
      account: {
        username: account.username,
        email: account.email,
        name: [account.givenName, account.familyName].filter(Boolean).join(' '),
        phone: account.phoneHint ? maskPhone(account.phoneHint) : undefined,
      },
      // Named only on the answer to a request (settings-routes.ts), for a taken address too.
      pendingEmail: undefined,
      canChangePhone: phoneMethodEnrolled,
      canAddPhoneMethod: !phoneMethodEnrolled && phoneFactors.size > 0,
      csrf: flow.csrf,
      flowId: flow.id,
      notice,
      methods,
      // The method a login asks first (steps/decision.ts challengeAmong): the chosen default when
      // it is set up, else the first set-up method; marked as such, whether chosen or not.
      defaultFactor: methods.find((m) => m.enrolled && m.id === account.settings.defaultFactor)?.id ?? methods.find((m) => m.enrolled)?.id,
      parts,
      rememberChoices: services.devices.choices(),
      rememberChoice: services.devices.choiceOf(account),
      devices,
      portals,
      activity,
      activityDays: accountPage.activityDays,
      sections: consoleSections(),
      returnLink: await this.returnLink(ctx),
      ...extra,
      logoutUrl: `/session/end?client_id=${ACCOUNT_CLIENT_ID}&post_logout_redirect_uri=${encodeURIComponent(`${services.config.issuer}/account`)}`,
    }, status);
  }
}
