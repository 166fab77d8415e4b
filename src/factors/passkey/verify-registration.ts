// Verifying a new passkey (WebAuthn §7.1) against the challenge the flow issued. Returns the data
// to store; storing it (and refusing a credential id that is registered already) is
// PasskeyCredentials' job. Attestation is `none`: we learn the key and the flags, not the model.
import { verifyRegistrationResponse } from '@simplewebauthn/server';
import { decodeAttestationObject } from '@simplewebauthn/server/helpers';
import type { PasskeyChallenge } from './passkey-challenge.ts';
import type { PasskeyCredentialData } from './passkey-credential.ts';
import { isPasskeyTransport } from './passkey-credential.ts';
import { parseRegistrationResponse } from './passkey-response.ts';
import { PASSKEY_ALGORITHMS } from './passkey-options.ts';
import { checkAuthenticatorData, checkClientData, parseAuthData, takeChallenge, type CeremonyFailure, type CeremonyInput } from './passkey-ceremony.ts';

export interface RegistrationInput extends CeremonyInput {
  accountId: string;
  /** The posted `passkey_response` field. */
  response: string | undefined;
  /** The cleaned name (normalisePasskeyName) or the default (defaultPasskeyName). */
  name: string;
}

export type RegistrationResult =
  | { ok: true; passkey: PasskeyCredentialData; userVerified: boolean; challenge: PasskeyChallenge }
  | CeremonyFailure;

function authDataOf(attestationObject: string): Uint8Array | undefined {
  try {
    return decodeAttestationObject(new Uint8Array(Buffer.from(attestationObject, 'base64url'))).get('authData');
  } catch {
    return undefined;
  }
}

export async function verifyPasskeyRegistration(input: RegistrationInput): Promise<RegistrationResult> {
  const taken = takeChallenge(input, { ceremony: 'registration', accountId: input.accountId });
  if (!taken.ok) return taken;
  const { issued, spent } = taken.value;
  const fail = (reason: CeremonyFailure['reason']): CeremonyFailure => ({ ok: false, reason, challenge: spent });

  const parsed = parseRegistrationResponse(input.response);
  if (!parsed.ok) return fail(parsed.reason);
  const response = parsed.value;
  const origin = checkClientData(response.response.clientDataJSON, 'webauthn.create', issued, input.rp);
  if (!origin.ok) return fail(origin.reason);
  const authBytes = authDataOf(response.response.attestationObject);
  const authData = authBytes && parseAuthData(authBytes);
  if (!authData || !authData.credentialID || !authData.credentialPublicKey || !authData.aaguid) return fail('malformed');
  // The id the browser reports must be the one the authenticator put in the signed data.
  if (Buffer.from(authData.credentialID).toString('base64url') !== response.rawId.replace(/=+$/, '')) return fail('malformed');
  const flags = checkAuthenticatorData(authData, input.rp, input.use);
  if (!flags.ok) return fail(flags.reason);
  if (!issued.userHandle) return fail('no-challenge');

  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: issued.value,
      expectedOrigin: input.rp.origins,
      expectedRPID: input.rp.rpId,
      requireUserVerification: input.use === 'passwordless',
      supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
    });
  } catch {
    // Everything we could name was checked above: what is left is an unusable key or attestation.
    return fail('invalid');
  }
  if (!verification.verified) return fail('invalid');
  const info = verification.registrationInfo;
  const passkey: PasskeyCredentialData = {
    credentialId: info.credential.id,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    signCount: info.credential.counter,
    transports: [...new Set((response.response.transports ?? []).filter(isPasskeyTransport))],
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backedUp: info.credentialBackedUp,
    aaguid: info.aaguid,
    userHandle: issued.userHandle,
    name: input.name,
    userVerifiedAtRegistration: info.userVerified,
  };
  return { ok: true, passkey, userVerified: info.userVerified, challenge: spent };
}
