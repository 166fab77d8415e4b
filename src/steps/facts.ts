// The facts a flow kind decides on: what this flow proved and chose, the portal's policy and the
// level asked for, what each registered factor is for the account, and the account's own state.
// Plain data, read by the flow before it asks its pure decider (and each required action's `due`).
import type { Proof } from '../oidc/assurance.ts';
import type { PortalPolicy } from '../oidc/client-policy.ts';
import type { FactorFacts } from '../policy/proof-rules.ts';

/** The account's state that required actions are due on. */
export interface AccountFacts {
  /** Required actions stored on the account (`AccountRecord.requiredActions`), e.g. an operator's. */
  requiredActions: readonly string[];
  /**
   * The password itself must change before the login goes on (a temporary password, one that
   * fails the portal's profile), as the password service reports; `update-password` stored on
   * the account says so too.
   */
  passwordChangeRequired: boolean;
}

export const NO_ACCOUNT_FACTS: AccountFacts = { requiredActions: [], passwordChangeRequired: false };

export interface FlowFacts {
  proofs: readonly Proof[];
  policy: PortalPolicy;
  /** The acr the request and portal demand, if any. */
  requiredAcr: string | undefined;
  factors: readonly FactorFacts[];
  /** The second factor the user picked ("use another method"), if any. */
  chosenFactor: string | undefined;
  /** The account's preferred second factor. */
  defaultFactor: string | undefined;
  /** An enrolment in progress (chosen method). */
  enrolling: string | undefined;
  /** Whether the password was entered again for enrolment (Minddistrict asks for that). */
  reauthenticated: boolean;
  /** Factors enrolled in this very flow (recovery codes follow the first second factor). */
  enrolledInFlow: readonly string[];
  /** The account's state; NO_ACCOUNT_FACTS until the first factor identified it. */
  account: AccountFacts;
  /** Required actions completed in this very flow. */
  actionsDone: readonly string[];
  /** When the flow started (our clock): a proof made since was typed in this flow. Unknown: none was. */
  startedAt?: number;
}
