// Verifying a sign-in with a passkey (WebAuthn §7.2) against the challenge the flow issued.
//
// The signature counter: a passkey that counts (either counter non-zero) must report a higher
// count than we stored, else two copies of its key exist: a possible clone. We compare only after
// the signature verified (the library would compare first, so a forged response could raise a
// clone alarm); the caller stores the new count with compare-and-swap (PasskeyCredentials) and
// audits a regression. Passkeys that never count (always 0, as synced ones do) are accepted.
import { verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { CredentialRecord } from '../../store/port.ts';
import type { PasskeyChallenge } from './passkey-challenge.ts';
import { readPasskeyData, type PasskeyCredentialData } from './passkey-credential.ts';
import { passkeyProof, type PasskeyProof } from './passkey-proof.ts';
import { parseAuthenticationResponse } from './passkey-response.ts';
import { checkAuthenticatorData, checkClientData, parseAuthData, takeChallenge, type CeremonyFailure, type CeremonyInput } from './passkey-ceremony.ts';

export interface AuthenticationInput extends CeremonyInput {
  /** The account signing in (second factor); null for a passwordless sign-in (the passkey names it). */
  accountId: string | null;
  /** The posted `passkey_response` field. */
  response: string | undefined;
  /** The stored passkey with this credential id, of any account (PasskeyCredentials.find). */
  findCredential(credentialId: string): Promise<CredentialRecord | undefined>;
}

export interface VerifiedPasskeyUse {
  accountId: string;
  /** The record as it was found: the expected value of the caller's compare-and-swap. */
  record: CredentialRecord;
  /** Its data after this use: the new counter and backup state. */
  updated: PasskeyCredentialData;
  proof: PasskeyProof;
}

/** What the audit trail needs about a possible clone (no key material, nothing secret). */
export interface CounterRegression {
  recordId: string;
  accountId: string;
  storedCount: number;
  receivedCount: number;
  /**
   * Found only on saving, after another sign-in with the same passkey was stored first: a copy, or
   * the same security key in two tabs at once. Refused and audited, but the owner is not mailed.
   */
  raced?: true;
}

export type AuthenticationResult =
  | ({ ok: true; challenge: PasskeyChallenge } & VerifiedPasskeyUse)
  | (CeremonyFailure & { clone?: CounterRegression });

/** The counter rule, on its own for the caller's retry after a lost compare-and-swap. */
export function counterRegressed(stored: number, received: number): boolean {
  return (stored > 0 || received > 0) && received <= stored;
}

export async function verifyPasskeyAuthentication(input: AuthenticationInput): Promise<AuthenticationResult> {
  const taken = takeChallenge(input, { ceremony: 'authentication', accountId: input.accountId });
  if (!taken.ok) return taken;
  const { issued, spent } = taken.value;
  const fail = (reason: CeremonyFailure['reason']): CeremonyFailure => ({ ok: false, reason, challenge: spent });

  const parsed = parseAuthenticationResponse(input.response);
  if (!parsed.ok) return fail(parsed.reason);
  const response = parsed.value;
  const origin = checkClientData(response.response.clientDataJSON, 'webauthn.get', issued, input.rp);
  if (!origin.ok) return fail(origin.reason);
  const authData = parseAuthData(new Uint8Array(Buffer.from(response.response.authenticatorData, 'base64url')));
  if (!authData) return fail('malformed');
  const flags = checkAuthenticatorData(authData, input.rp, input.use);
  if (!flags.ok) return fail(flags.reason);

  const credentialId = response.rawId.replace(/=+$/, '');
  const record = await input.findCredential(credentialId);
  const stored = record && readPasskeyData(record);
  if (!record || !stored || stored.credentialId !== credentialId) return fail('unknown-credential');
  if (input.accountId !== null && record.accountId !== input.accountId) return fail('other-account');
  // A discoverable sign-in must name the account the passkey was registered for (§7.2 step 6).
  if (input.accountId === null && response.response.userHandle?.replace(/=+$/, '') !== stored.userHandle) return fail('unknown-credential');

  let result;
  try {
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: issued.value,
      expectedOrigin: input.rp.origins,
      expectedRPID: input.rp.rpId,
      // Counter 0: the library's own comparison runs before the signature check; ours runs after.
      credential: { id: stored.credentialId, publicKey: new Uint8Array(Buffer.from(stored.publicKey, 'base64url')), counter: 0, transports: stored.transports },
      requireUserVerification: input.use === 'passwordless',
    });
  } catch {
    return fail('invalid');
  }
  if (!result.verified) return fail('invalid');
  const info = result.authenticationInfo;

  if (counterRegressed(stored.signCount, info.newCounter)) {
    return {
      ...fail('counter-regression'),
      clone: { recordId: record.id, accountId: record.accountId, storedCount: stored.signCount, receivedCount: info.newCounter },
    };
  }
  const backupEligible = stored.backupEligible || authData.flags.be;
  const updated: PasskeyCredentialData = { ...stored, signCount: info.newCounter, backupEligible, backedUp: info.credentialBackedUp };
  return {
    ok: true,
    challenge: spent,
    accountId: record.accountId,
    record,
    updated,
    proof: passkeyProof({ credential: record.id, backupEligible, userVerified: info.userVerified, at: input.now }),
  };
}
