// The AfterHook interface: one file per hook under hooks/, listed by the flow kinds that want it.
// A hook reacts to the events a flow recorded (steps/events.ts) once the step that recorded them
// finished, and on completion before the kind hands its result over; it never renders. Security
// notices must not wait for a completion that may never come (a patient who sets up an app and
// closes the window is still told), hence "after the step", as Kratos' after-hooks per method.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { FlowEvent } from '../steps/events.ts';

export interface HookContext {
  services: Services;
  /** The flow kind (`login`, `settings`): audit events are named after it. */
  kind: string;
  /** The account as it is now (re-read after the step). */
  account: AccountRecord | undefined;
  /** The portal of a login (audit), null on the account page. */
  clientId: string | null;
  /** The portal's name for notices ("bij het inloggen op ZINN"); undefined on the account page. */
  portal: string | undefined;
  ip: string | null;
}

export interface AfterHook {
  readonly name: string;
  run(ctx: HookContext, events: readonly FlowEvent[]): Promise<void>;
}
