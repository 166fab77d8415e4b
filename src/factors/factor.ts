// The Factor interface: one per folder under factors/. A factor owns its credential shape, its
// view and its part of each flow (challenge at login, enrolment). Flows only talk to this
// interface through the registry, so adding a factor never changes a flow.
import type { AccountRecord } from '../store/port.ts';
import type { Proof } from '../oidc/assurance.ts';
import type { PortalPolicy } from '../oidc/client-policy.ts';
import type { Language, Translate } from '../i18n/i18n.ts';
import type { Services } from '../services.ts';

export type FactorMode = 'challenge' | 'enrol';

/** Form fields as posted (url-encoded; repeated fields keep the last value). */
export type Form = Record<string, string>;

/** A factor's scratch space in the flow (e.g. the secret being enrolled, when a code was sent). */
export interface FactorScratch {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  clear(): void;
}

export interface FactorContext {
  services: Services;
  policy: PortalPolicy;
  /** Known after the first factor identified the user. */
  account: AccountRecord | undefined;
  scratch: FactorScratch;
  /** The page's language; `t` speaks it. */
  lang: Language;
  t: Translate;
  /** The language of messages (SMS, call, e-mail): the page's when the patient chose one there, else the account's. */
  messageLang: Language;
  ip: string | null;
  /** Flow id, to bind codes or challenges to this flow. */
  flowId: string;
}

export type FactorOutcome =
  /** Proved: the flow records the proof and moves on. `account` is set by identifying factors. */
  | { kind: 'proved'; proof: Proof; account?: AccountRecord; remember?: boolean }
  /** Enrolment finished without proving anything now (e.g. recovery codes were shown). */
  | { kind: 'enrolled' }
  /** Show the factor's view again, with these locals (errors, notices); a 4xx status for errors. */
  | { kind: 'show'; locals?: Record<string, unknown>; status?: number }
  /** The whole flow must stop (e.g. account disabled); shown as an error page with this message. */
  | { kind: 'fail'; messageKey: string; status: number };

export interface Factor {
  readonly id: string;
  /** first: identifies and proves (password); second: a second factor; recovery: fallback only. */
  readonly role: 'first' | 'second' | 'recovery';
  /** RFC 8176 values this factor proves. */
  readonly amr: readonly string[];
  /** 2 when it counts towards AAL2 together with a password. See oidc/assurance.ts. */
  readonly strength: 1 | 2;
  /** Pug view under views/, rendered for both modes with `mode` and the factor's locals. */
  readonly view: string;
  /** Actions the view may post (`/interaction/:uid/:factor/:action`). */
  readonly actions: readonly string[];
  /** Whether the factor can enrol during a login (e.g. recovery codes come with another factor). */
  readonly enrollable: boolean;

  isEnrolled(services: Services, account: AccountRecord): Promise<boolean>;
  /** A short line for "use another method", e.g. "SMS naar *****16". */
  describe(services: Services, account: AccountRecord, t: Translate): Promise<string>;
  /** Entering the step (send a code, create an enrolment secret). Not called on page reloads. */
  enter(ctx: FactorContext, mode: FactorMode): Promise<FactorOutcome>;
  /** Locals for rendering the step (GET, reload, language switch). */
  present(ctx: FactorContext, mode: FactorMode): Promise<Record<string, unknown>>;
  handle(ctx: FactorContext, action: string, form: Form, mode: FactorMode): Promise<FactorOutcome>;
  /** The factor's part of the account settings page (Kratos: a strategy's settings flow). */
  readonly settings?: FactorSettings;
}

export interface FactorSettingsSummary {
  /** One line about the factor, e.g. "U heeft nog 4 herstelcodes over." */
  text: string;
  /** Buttons for the settings page; `name` is posted back to `handle`. */
  actions: Array<{ name: string; label: string }>;
}

export interface FactorSettings {
  summary(services: Services, account: AccountRecord, t: Translate): Promise<FactorSettingsSummary | undefined>;
  /**
   * Runs a settings action; returns a view to show (e.g. new recovery codes) or a notice.
   * `replaced`: the action replaced the factor's credential (new recovery codes), which the patient
   * is told about by e-mail, like any new sign-in method.
   */
  handle(ctx: FactorContext, action: string, form: Form): Promise<{ notice?: string; view?: string; locals?: Record<string, unknown>; replaced?: boolean }>;
}
