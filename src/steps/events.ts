// What a flow records while it runs, for its after-hooks (src/hooks/) to react to: audit, notices,
// revocation, lifting a lock. Plain data; a hook never renders and a flow never mails or audits
// these itself. Steps may report events with their outcome (an action's `done`), the runner and
// the kinds record the rest.
import type { AccountRecord } from '../store/port.ts';

export type FlowEvent =
  /** The flow completed (a login handed to the portal: `detail` holds its acr and amr). */
  | { type: 'completed'; detail: Record<string, unknown> }
  /** A remembered device stood in for the second factor it remembered. */
  | { type: 'remembered_device'; device: string }
  /** A factor was set up in this flow. */
  | { type: 'factor_enrolled'; factor: string }
  /**
   * A new authenticator was bound to the account — a second factor set up, or set up again
   * (`replaced`), possibly with a new phone number or e-mail address —; `before` is the account as
   * it was before that step.
   */
  | { type: 'authenticator_bound'; factor: string; replaced: boolean; before: AccountRecord }
  /** A factor's settings action ran (e.g. new recovery codes); `replaced`: its credential was replaced. */
  | { type: 'factor_setting'; factor: string; action: string; replaced: boolean }
  | { type: 'factor_removed'; factor: string }
  | { type: 'devices_forgotten' }
  /** A required action's page finished. */
  | { type: 'action_completed'; action: string }
  | { type: 'password_changed' };
