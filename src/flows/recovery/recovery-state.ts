// What the recovery kind's own steps share in the flow (the kit's flow scratch): the keyed hash
// of the typed user id, the reason the patient chose, the phone channel picked, the e-mail link.
import type { KitState } from '../kit/state.ts';
import type { StepScratch } from '../../steps/step.ts';

export const RECOVERY_KIND = 'account-recovery';

/** The step ids of the kind's own pages (never a factor's or an action's id). */
export const IDENTIFY = 'recovery-identify';
export const CHOOSE = 'recovery-choose';
export const VERIFY = 'recovery-verify';
export const NEW_PASSWORD = 'recovery-new-password';

/** The proofs a recovery records besides the factors' own: never handed to oidc-provider. */
export const IDENTIFIED = 'recovery-identified';
export const PHONE_NUMBER = 'recovery-phone-number';
export const EMAIL_LINK = 'recovery-email-link';

export type RecoveryReason = 'reset' | 'unlock';

export interface RecoveryLink {
  /** SHA-256 of the token (the token itself is only in the mail). */
  hash: string;
  expiresAt: number;
  used: boolean;
}

export interface RecoveryState extends KitState {
  /** SHA-256 of the random value in this browser's flow cookie: the flow continues only there. */
  browserHash: string;
  /** The oidc interaction the patient came from, if any: the end links back to its login. */
  returnUid?: string;
}

/** Typed accessors of the flow scratch. */
export const shared = {
  loginKey: (s: StepScratch) => s.get<string>('loginKey'),
  reason: (s: StepScratch) => s.get<RecoveryReason>('reason'),
  channel: (s: StepScratch) => s.get<'sms' | 'voice'>('channel'),
  link: (s: StepScratch) => s.get<RecoveryLink>('link'),
};
