// What a flow calls to use passkeys: start a ceremony (a challenge to keep in the flow + options
// for the page), finish it (verify the posted response and store the result), and manage the
// account's passkeys. The flow keeps `challenge` in its state and saves what every finish returns
// in `challenge` (spent: one attempt per challenge); it audits failures and counts them.
//
// A registration with attestation `none` carries no signature over the challenge, so it proves
// nothing by itself: to count as a proof in the same flow, follow it with a sign-in ceremony.
import type { Services } from '../../services.ts';
import type { Clock } from '../../clock.ts';
import { webauthnRelyingParty, type WebauthnRelyingParty } from '../../config.ts';
import type { CredentialRecord, CredentialStore } from '../../store/port.ts';
import { newPasskeyChallenge, type PasskeyChallenge, type PasskeyUse } from './passkey-challenge.ts';
import { passkeyAuthenticationOptions, passkeyRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON, type PublicKeyCredentialRequestOptionsJSON } from './passkey-options.ts';
import { verifyPasskeyRegistration } from './verify-registration.ts';
import { verifyPasskeyAuthentication, type CounterRegression } from './verify-authentication.ts';
import { PasskeyCredentials, userHandleFor } from './passkey-store.ts';
import type { PasskeyProof } from './passkey-proof.ts';
import type { CeremonyFailure } from './passkey-ceremony.ts';

export interface PasskeyCeremonyStart<Options> {
  /** Keep in the flow's state; hand it back to the finish call. */
  challenge: PasskeyChallenge;
  /** Embed in the page as JSON (see views/factors/passkey-mixins.pug and public/static/passkey.js). */
  options: Options;
}

export type PasskeyRegistrationOutcome =
  | { ok: true; record: CredentialRecord; userVerified: boolean; challenge: PasskeyChallenge }
  | CeremonyFailure;

export type PasskeySignInOutcome =
  | { ok: true; accountId: string; record: CredentialRecord; proof: PasskeyProof; challenge: PasskeyChallenge }
  | (CeremonyFailure & { clone?: CounterRegression });

export class Passkeys {
  readonly credentials: PasskeyCredentials;

  constructor(
    store: CredentialStore,
    private readonly clock: Clock,
    readonly rp: WebauthnRelyingParty,
  ) {
    this.credentials = new PasskeyCredentials(store);
  }

  /** The relying party follows the issuer at the time of the call (tests bind a port first). */
  static from(services: Pick<Services, 'store' | 'clock' | 'config'>): Passkeys {
    return new Passkeys(services.store.credentials, services.clock, webauthnRelyingParty(services.config));
  }

  async startRegistration(input: {
    account: { id: string; username: string };
    use: PasskeyUse;
    flowId: string;
    /** The product name in the page language (t('common.product')). */
    rpName: string;
  }): Promise<PasskeyCeremonyStart<PublicKeyCredentialCreationOptionsJSON>> {
    const existing = await this.credentials.list(input.account.id);
    const userHandle = userHandleFor(existing);
    const challenge = newPasskeyChallenge({ ceremony: 'registration', use: input.use, flowId: input.flowId, accountId: input.account.id, userHandle, now: this.clock.now() });
    const options = await passkeyRegistrationOptions({ rp: this.rp, rpName: input.rpName, challenge, userName: input.account.username, existing: existing.map((p) => p.data) });
    return { challenge, options };
  }

  async finishRegistration(input: {
    accountId: string;
    use: PasskeyUse;
    flowId: string;
    challenge: unknown;
    response: string | undefined;
    /** Cleaned with normalisePasskeyName, or defaultPasskeyName. */
    name: string;
  }): Promise<PasskeyRegistrationOutcome> {
    const now = this.clock.now();
    const verified = await verifyPasskeyRegistration({ ...input, rp: this.rp, now });
    if (!verified.ok) return verified;
    const added = await this.credentials.add(input.accountId, verified.passkey, now);
    if (!added.ok) return { ok: false, reason: added.reason, challenge: verified.challenge };
    return { ok: true, record: added.record, userVerified: verified.userVerified, challenge: verified.challenge };
  }

  /** `accountId` null: passwordless (any passkey of ours, also offered in the username autofill). */
  async startAuthentication(input: { use: PasskeyUse; flowId: string; accountId: string | null }): Promise<PasskeyCeremonyStart<PublicKeyCredentialRequestOptionsJSON>> {
    const accountId = input.use === 'passwordless' ? null : input.accountId;
    const allow = accountId === null ? [] : (await this.credentials.list(accountId)).map((p) => p.data);
    const challenge = newPasskeyChallenge({ ceremony: 'authentication', use: input.use, flowId: input.flowId, accountId, now: this.clock.now() });
    return { challenge, options: await passkeyAuthenticationOptions({ rp: this.rp, challenge, allow }) };
  }

  async finishAuthentication(input: {
    use: PasskeyUse;
    flowId: string;
    accountId: string | null;
    challenge: unknown;
    response: string | undefined;
  }): Promise<PasskeySignInOutcome> {
    const now = this.clock.now();
    const verified = await verifyPasskeyAuthentication({
      ...input,
      accountId: input.use === 'passwordless' ? null : input.accountId,
      rp: this.rp,
      now,
      findCredential: (id) => this.credentials.find(id),
    });
    if (!verified.ok) return verified;
    const saved = await this.credentials.recordUse(verified, now);
    if (!saved.ok) return { ok: false, reason: saved.reason, challenge: verified.challenge, ...(saved.reason === 'counter-regression' ? { clone: saved.clone } : {}) };
    return { ok: true, accountId: verified.accountId, record: saved.record, proof: verified.proof, challenge: verified.challenge };
  }
}
