// The options the page hands to the browser (as JSON, see passkey.js) for a ceremony, built from
// the challenge the flow keeps.
import {
  generateAuthenticationOptions, generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { COSEALG } from '@simplewebauthn/server/helpers';
import type { WebauthnRelyingParty } from '../../config.ts';
import { PASSKEY_CHALLENGE_TTL_MS, type PasskeyChallenge } from './passkey-challenge.ts';
import type { PasskeyCredentialData } from './passkey-credential.ts';

export type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON };

/**
 * Key types we accept, in order of preference: Ed25519, P-256 (what nearly every passkey uses) and
 * RSA (Windows Hello on older TPMs). Fixed rather than the library's default, which adds ML-DSA
 * when the Node.js it runs on supports it (experimental today): a passkey must stay verifiable on
 * every process and version that serves the same accounts.
 */
export const PASSKEY_ALGORITHMS: readonly number[] = [COSEALG.EdDSA, COSEALG.ES256, COSEALG.RS256];

const bytes = (base64url: string) => new Uint8Array(Buffer.from(base64url, 'base64url'));

/**
 * Registration: a discoverable credential (so it can sign in without a username later), user
 * verification required for passwordless use and preferred for a second factor, attestation
 * `none` (we do not restrict models; asking for attestation would only add a consent prompt), and
 * the account's existing passkeys excluded so an authenticator is not registered twice.
 * `userName` is what the passkey picker shows; we give the username and no real name, so a synced
 * passkey carries no more personal data to the platform than needed.
 */
export function passkeyRegistrationOptions(input: {
  rp: WebauthnRelyingParty;
  /** Shown by some authenticators: the product name in the page language. */
  rpName: string;
  challenge: PasskeyChallenge;
  userName: string;
  existing: readonly PasskeyCredentialData[];
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { challenge } = input;
  if (challenge.ceremony !== 'registration' || !challenge.userHandle) throw new Error('a registration challenge with a user handle is needed');
  return generateRegistrationOptions({
    rpName: input.rpName,
    rpID: input.rp.rpId,
    userName: input.userName,
    userDisplayName: input.userName,
    userID: bytes(challenge.userHandle),
    challenge: bytes(challenge.value),
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    attestationType: 'none',
    supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
    excludeCredentials: input.existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    authenticatorSelection: {
      residentKey: 'required',
      requireResidentKey: true,
      userVerification: challenge.use === 'passwordless' ? 'required' : 'preferred',
    },
  });
}

/**
 * Sign-in: passwordless asks for any discoverable passkey of ours (the browser offers them, also
 * in the username field's autofill) with user verification required; as a second factor only the
 * account's own passkeys are allowed and user verification is preferred.
 */
export function passkeyAuthenticationOptions(input: {
  rp: WebauthnRelyingParty;
  challenge: PasskeyChallenge;
  /** Second factor: the account's passkeys. Ignored for passwordless. */
  allow?: readonly PasskeyCredentialData[];
}): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { challenge } = input;
  if (challenge.ceremony !== 'authentication') throw new Error('an authentication challenge is needed');
  const passwordless = challenge.use === 'passwordless';
  return generateAuthenticationOptions({
    rpID: input.rp.rpId,
    challenge: bytes(challenge.value),
    timeout: PASSKEY_CHALLENGE_TTL_MS,
    userVerification: passwordless ? 'required' : 'preferred',
    allowCredentials: passwordless ? [] : (input.allow ?? []).map((p) => ({ id: p.credentialId, transports: p.transports })),
  });
}
