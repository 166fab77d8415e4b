// A step is what the flow runner (flows/kit/) can enter, present and hand a form to: a factor in
// challenge or enrol mode, or the page of a required action. The runner knows steps only through
// this interface, so it never names a factor or an action, and a new one never changes it.
import type { AccountRecord } from '../store/port.ts';
import type { Proof } from '../oidc/assurance.ts';
import type { PortalPolicy } from '../oidc/client-policy.ts';
import type { Language, Translate } from '../i18n/i18n.ts';
import type { Services } from '../services.ts';
import type { FlowEvent } from './events.ts';

/**
 * Why the password just typed must be replaced before the flow completes: it was a temporary
 * password, or it no longer meets the portal's password profile. Told by the first factor with its
 * proof; a stored `update-password` (an operator's) is the account's own fact. `initial`: the
 * account has none yet (an activation sets the first one; no current password is asked).
 */
export type PasswordChangeReason = 'temporary' | 'portal_profile' | 'initial';

/** A factor proves (challenge) or is set up (enrol); an action's page ignores the mode. */
export type StepMode = 'challenge' | 'enrol';

/** Form fields as posted (url-encoded; repeated fields keep the last value). */
export type Form = Record<string, string>;

/**
 * Set in a step's scratch by the flow before it enters the step in enrol mode: start from a new
 * address (the account console's "change phone number") instead of the one on the account. The
 * step reads it once, on entering.
 */
export const NEW_ADDRESS_HINT = 'newAddress';

/** A step's scratch space in the flow (e.g. the secret being enrolled, when a code was sent). */
export interface StepScratch {
  get<T>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  clear(): void;
}

export interface StepContext {
  services: Services;
  policy: PortalPolicy;
  /** Known after the first factor identified the user. */
  account: AccountRecord | undefined;
  scratch: StepScratch;
  /**
   * The flow's own scratch space, shared by the steps of one kind (a recovery's identify step
   * leaves the typed name's key and the chosen reason there for the steps after it).
   */
  flowScratch: StepScratch;
  /** The page's language; `t` speaks it. */
  lang: Language;
  t: Translate;
  /** The language of messages (SMS, call, e-mail): the page's when the patient chose one there, else the account's. */
  messageLang: Language;
  ip: string | null;
  /** Flow id, to bind codes or challenges to this flow. */
  flowId: string;
  /**
   * Writes the flow's state (the scratch included) now. The flow store has no compare-and-swap:
   * a step that spends a single-use value (a passkey challenge) saves it spent before the slow
   * check, so a second post of the same response finds it spent.
   */
  persist(): Promise<void>;
  /** Set when this flow's password must be replaced, and why (the update-password page says so). */
  passwordChange: PasswordChangeReason | undefined;
  /** The browser's session at Poortwachter, when the flow runs in one (the account page): a password change keeps it. */
  sessionUid: string | undefined;
  /** The browser's User-Agent: the audit keeps it (shortened), a passkey's default name reads it. */
  userAgent: string | null;
  /**
   * The account's own addresses this very flow proved (an activation: the mailbox by the
   * invitation link, the phone by verify-phone). Setting up a code factor to such an address needs
   * no second code to it.
   */
  provedAddresses?: readonly ('email' | 'phone')[];
}

export type StepOutcome =
  /** A factor proved: the flow records the proof and moves on. `account` is set by identifying factors. */
  | { kind: 'proved'; proof: Proof; account?: AccountRecord; remember?: boolean; passwordChange?: PasswordChangeReason }
  /** A factor's enrolment finished without proving anything now (e.g. recovery codes were saved). */
  | { kind: 'enrolled' }
  /** A required action is done: the flow marks it so and moves on, with `events` for its after-hooks. Never a proof. */
  | { kind: 'done'; events?: readonly FlowEvent[] }
  /** Show the step's view again, with these locals (errors, notices); a 4xx status for errors. */
  | { kind: 'show'; locals?: Record<string, unknown>; status?: number }
  /** The whole flow must stop (e.g. account disabled); shown as an error page with this message. */
  | { kind: 'fail'; messageKey: string; status: number };

export interface Step<O extends StepOutcome = StepOutcome> {
  /** Unique among factors and actions: it names the step in form URLs (`.../step/<id>/<action>`). */
  readonly id: string;
  /** Pug view under views/, rendered with `mode`, the flow's page chrome and `present`'s locals. */
  readonly view: string;
  /** Actions the view may post; anything else is a 404. */
  readonly actions: readonly string[];
  /** Entering the step (send a code, create an enrolment secret). Not called on page reloads. */
  enter(ctx: StepContext, mode: StepMode): Promise<O>;
  /** Locals for rendering the step (GET, reload, language switch). */
  present(ctx: StepContext, mode: StepMode): Promise<Record<string, unknown>>;
  handle(ctx: StepContext, action: string, form: Form, mode: StepMode): Promise<O>;
}
