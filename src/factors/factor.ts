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

/**
 * Where in a login a factor can stand (Kratos' AAL hydrators): `first` identifies the account and
 * proves something (the password; a passkey without a password), `second` adds to what the first
 * proved, `fallback` stands in when the account's second factor is out of reach (recovery codes).
 */
export type FactorPosition = 'first' | 'second' | 'fallback';

/** A factor is a step (steps/step.ts) in challenge or enrol mode, plus what the deciders need to know of it. */
export interface Factor extends Step<FactorOutcome> {
  /**
   * What the factor is listed as (on /account, in the method choice): first (the password),
   * second (a second factor), recovery (fallback only). Where it may stand in a login is
   * `positions`.
   */
  readonly role: 'first' | 'second' | 'recovery';
  /** The positions it can fill. The step engine asks the registry by position (`factorsFor`). */
  readonly positions: readonly FactorPosition[];
  /** 2 when it counts towards AAL2 together with a password. See oidc/assurance.ts. */
  readonly strength: 1 | 2;
  /**
   * Its proofs are bound to our origin (a passkey): it reaches the phishing-resistant level. The
   * amr values are not declared here: a proof reports its own (a passkey's depend on the key).
   */
  readonly phishingResistant?: boolean;
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
  handle(ctx: FactorContext, action: string, form: Form): Promise<FactorSettingsResult>;
  /**
   * Whether `action` with `form` would remove the factor's last credential of the account: the
   * account page refuses that while a portal the patient uses requires MFA and no other second
   * factor is left (it asks before `handle` runs).
   */
  removesLast?(ctx: FactorContext, action: string, form: Form): Promise<boolean>;
}

export interface FactorSettingsResult {
  notice?: string;
  view?: string;
  locals?: Record<string, unknown>;
  replaced?: boolean;
  /** The action removed one of the factor's credentials: the patient is told, remembered devices go (hooks). */
  removed?: boolean;
  /** A 4xx with the view (bad input). */
  status?: number;
}
