// One request's view of a flow: the persisted flow, the account it is about, the portal policy
// that applies, and what the request has read so far. A kind extends it with its own context (the
// oidc-provider interaction of a login, the session of the account page).
import type { Context } from 'koa';
import type { AccountRecord } from '../../store/port.ts';
import type { PortalPolicy } from '../../oidc/client-policy.ts';
import type { FactorFacts } from '../../policy/proof-rules.ts';
import type { AccountFacts } from '../../steps/facts.ts';
import type { FlowEvent } from '../../steps/events.ts';
import type { Flow } from './flow-store.ts';
import type { KitState } from './state.ts';

export interface FlowRun<S extends KitState = KitState> {
  readonly ctx: Context;
  flow: Flow<S>;
  /** Known once the first factor identified the patient (or from the start: step-up, account page). */
  account: AccountRecord | undefined;
  policy: PortalPolicy;
  /**
   * What each factor is for this account, read once per request (the decider, the alternatives
   * and the method choice all ask); forgotten after a step ran, as it may have enrolled one.
   */
  factorFacts?: Promise<FactorFacts[]>;
  /** The account's state the required actions are due on, likewise read once per request. */
  accountFacts?: Promise<AccountFacts>;
  /** The browser's session at Poortwachter the flow runs in (the account page), if any. */
  sessionUid?: string;
  /** Recorded in this request and not yet handed to the kind's after-hooks (FlowRunner.dispatch). */
  events: FlowEvent[];
}
