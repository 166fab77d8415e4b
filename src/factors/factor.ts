// The Factor interface: one per folder under factors/. A factor owns its credential shape, its
// view and its part of each flow (challenge at login, enrolment). Flows only talk to this
// interface through the registry, so adding a factor never changes a flow.
import type { AccountRecord } from '../store/port.ts';
import type { Translate } from '../i18n/i18n.ts';
import type { Services } from '../services.ts';
import type { Form, Step, StepContext, StepMode, StepOutcome, StepScratch } from '../steps/step.ts';

export type { Form } from '../steps/step.ts';
export type FactorMode = StepMode;
/** A factor's scratch space in the flow (e.g. the secret being enrolled, when a code was sent). */
export type FactorScratch = StepScratch;
export type FactorContext = StepContext;
/** What a factor's step ends in: everything a step may answer but `done`, which only actions say. */
export type FactorOutcome = Exclude<StepOutcome, { kind: 'done' }>;

/** A factor is a step (steps/step.ts) in challenge or enrol mode, plus what the deciders need to know of it. */
export interface Factor extends Step<FactorOutcome> {
  /** first: identifies and proves (password); second: a second factor; recovery: fallback only. */
  readonly role: 'first' | 'second' | 'recovery';
  /** RFC 8176 values this factor proves. */
  readonly amr: readonly string[];
  /** 2 when it counts towards AAL2 together with a password. See oidc/assurance.ts. */
  readonly strength: 1 | 2;
  /** Whether the factor can enrol during a login (e.g. recovery codes come with another factor). */
  readonly enrollable: boolean;
  /**
   * The account's address this factor sends codes to, if any: the account console changes the
   * phone number by setting up that factor again, starting from a new number (NEW_ADDRESS_HINT).
   */
  readonly address?: 'phone' | 'email';

  isEnrolled(services: Services, account: AccountRecord): Promise<boolean>;
  /** A short line for "use another method", e.g. "SMS naar *****16". */
  describe(services: Services, account: AccountRecord, t: Translate): Promise<string>;
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
