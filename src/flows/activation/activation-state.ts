// What the activation kind keeps in its flow besides the kit's state: the browser it runs in.
import type { KitState } from '../kit/state.ts';

export const ACTIVATION_KIND = 'activation';

/** The required actions an activation runs, by id (src/actions/registry.ts has them). */
export const VERIFY_PHONE = 'verify-phone';
export const UPDATE_PASSWORD = 'update-password';
export const ENROL_SECOND_FACTOR = 'enrol-second-factor';
export const SHOW_RECOVERY_CODES = 'show-recovery-codes';

export interface ActivationState extends KitState {
  /** SHA-256 of the random value in this browser's flow cookie: the flow continues only there. */
  browserHash: string;
  /** When the first password was set in this flow: the hand-off's password proof (activation-handoff.ts). */
  passwordSetAt?: number;
}
