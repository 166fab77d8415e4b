// Every way a passkey ceremony can fail, with the status and the text the patient gets. The flow
// counts each as a failed attempt (except `cancelled`, which is no attempt) and audits them;
// `counter-regression` is also the clone warning of the audit trail.
import type { PasskeyChallengeProblem } from './passkey-challenge.ts';
import type { ParseProblem } from './passkey-response.ts';

export type PasskeyFailure =
  | ParseProblem
  | PasskeyChallengeProblem
  /** The response signed another challenge than the one this flow issued. */
  | 'challenge-mismatch'
  /** Made on a page that is not ours (or inside a frame on another site). */
  | 'wrong-origin'
  /** The authenticator signed for another relying party. */
  | 'wrong-rp-id'
  | 'user-not-present'
  /** Passwordless needs the authenticator to verify the user (PIN, fingerprint, face). */
  | 'user-not-verified'
  /** No passkey with this id (removed, or never registered here): "Deze passkey kennen wij niet". */
  | 'unknown-credential'
  /** A passkey of another account than the one signing in. */
  | 'other-account'
  /** Registration of a passkey that is registered already (to this or another account). */
  | 'already-registered'
  /** The signature or attestation does not verify, or the key type is not one we accept. */
  | 'invalid'
  /** A counting authenticator whose counter did not go up: possibly a cloned authenticator. */
  | 'counter-regression';

export interface PasskeyFailureInfo {
  status: number;
  /** Locale key (namespace `passkey`) for the patient. */
  messageKey: string;
}

const retry = 'passkey.errors.retry';
const expired = 'passkey.errors.expired';

export const PASSKEY_FAILURES: Readonly<Record<PasskeyFailure, PasskeyFailureInfo>> = {
  'malformed': { status: 400, messageKey: retry },
  'too-large': { status: 413, messageKey: retry },
  'no-challenge': { status: 400, messageKey: expired },
  'challenge-used': { status: 400, messageKey: expired },
  'challenge-expired': { status: 400, messageKey: expired },
  'wrong-purpose': { status: 400, messageKey: expired },
  'wrong-flow': { status: 400, messageKey: expired },
  'wrong-account': { status: 400, messageKey: expired },
  'challenge-mismatch': { status: 400, messageKey: expired },
  'wrong-origin': { status: 400, messageKey: 'passkey.errors.wrong_site' },
  'wrong-rp-id': { status: 400, messageKey: 'passkey.errors.wrong_site' },
  'user-not-present': { status: 401, messageKey: retry },
  'user-not-verified': { status: 401, messageKey: 'passkey.errors.not_verified' },
  'unknown-credential': { status: 401, messageKey: 'passkey.errors.unknown' },
  'other-account': { status: 401, messageKey: 'passkey.errors.other_account' },
  'already-registered': { status: 409, messageKey: 'passkey.errors.already_registered' },
  'invalid': { status: 401, messageKey: retry },
  'counter-regression': { status: 401, messageKey: 'passkey.errors.clone' },
};
