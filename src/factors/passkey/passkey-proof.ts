// What a verified passkey sign-in proves, in RFC 8176 terms.
//  - hwk: a key that cannot leave the device (backup eligibility BE = 0).
//  - swk: a synced passkey (BE = 1), whether or not it is backed up at this moment: it may be
//    copied to other devices at any time, so it is not a hardware-bound key. With attestation
//    `none` these flags are the authenticator's word; we do not verify hardware.
//  - user: the authenticator verified the user (PIN, fingerprint, face). Such a passkey is
//    multi-factor on its own (something you have + something you know or are); `mfa` is added by
//    deriveAssurance for a multi-factor proof.
// Every verified ceremony is phishing-resistant: the browser signs the origin into clientDataJSON
// and the RP ID into the authenticator data, and we accept only our own.
import type { Proof } from '../../oidc/assurance.ts';

export const PASSKEY_FACTOR_ID = 'passkey';

export interface PasskeyProof extends Proof {
  factor: typeof PASSKEY_FACTOR_ID;
  strength: 2;
  multiFactor: boolean;
  /** Bound to our origin and RP ID: what a phishing-resistant level (issue 10) asks for. */
  phishingResistant: true;
}

export interface PasskeyProofFacts {
  /** The passkey's credential record id. */
  credential: string;
  backupEligible: boolean;
  userVerified: boolean;
  at: number;
}

export function passkeyAmr(facts: Omit<PasskeyProofFacts, 'at' | 'credential'>): string[] {
  return [facts.backupEligible ? 'swk' : 'hwk', ...(facts.userVerified ? ['user'] : [])];
}

export function passkeyProof(facts: PasskeyProofFacts): PasskeyProof {
  return {
    factor: PASSKEY_FACTOR_ID,
    amr: passkeyAmr(facts),
    strength: 2,
    multiFactor: facts.userVerified,
    phishingResistant: true,
    at: facts.at,
    credential: facts.credential,
  };
}
