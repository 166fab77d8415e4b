// A passkey authenticator for Chromium tests: the DevTools protocol's WebAuthn domain gives a page
// a virtual authenticator that answers navigator.credentials like a phone's or laptop's built-in
// one would (CTAP2, internal transport, discoverable credentials, user verification), without
// any dialog. Tests list and clear its passkeys, and make the next ceremony fail the way a patient
// closing the browser's dialog does (NotAllowedError).
import type { CDPSession, Page } from 'playwright-core';

export interface VirtualAuthenticatorOptions {
  /** Credentials it makes are synced passkeys (BE and BS flags set), like iCloud Keychain's. Default false: device-bound. */
  synced?: boolean;
  /** Whether user verification (fingerprint, PIN) succeeds. Default true. */
  userVerified?: boolean;
}

export interface VirtualCredential {
  /** base64url, as the server stores it. */
  credentialId: string;
  isResidentCredential: boolean;
  rpId: string | undefined;
  /** base64url user handle. */
  userHandle: string | undefined;
  signCount: number;
  userName: string | undefined;
}

export interface VirtualAuthenticator {
  readonly id: string;
  credentials(): Promise<VirtualCredential[]>;
  clearCredentials(): Promise<void>;
  removeCredential(credentialId: string): Promise<void>;
  /**
   * The next ceremonies fail as when the patient cancels the browser's dialog: user verification
   * fails, and Chromium reports NotAllowedError (it does not say why, as the spec demands).
   */
  cancelNext(): Promise<void>;
  /** Undoes cancelNext. */
  resume(): Promise<void>;
  /** Sets the counter of a passkey; -1 makes it a passkey that never counts (always reports 0). */
  setSignCount(credentialId: string, signCount: number): Promise<void>;
  /** Responses have the UV flag cleared (a correctly signed response without user verification). */
  withoutUserVerificationFlag(enabled: boolean): Promise<void>;
  /** Resolves with the next credential id the authenticator signs with. */
  nextAssertion(): Promise<string>;
  remove(): Promise<void>;
}

const toBase64url = (base64: string) => Buffer.from(base64, 'base64').toString('base64url');
const toBase64 = (base64url: string) => Buffer.from(base64url, 'base64url').toString('base64');

export async function addVirtualAuthenticator(page: Page, options: VirtualAuthenticatorOptions = {}): Promise<VirtualAuthenticator> {
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: options.userVerified ?? true,
      automaticPresenceSimulation: true,
      defaultBackupEligibility: options.synced ?? false,
      defaultBackupState: options.synced ?? false,
    },
  });
  const id = { authenticatorId };
  return {
    id: authenticatorId,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', id);
      return credentials.map((c) => ({
        credentialId: toBase64url(c.credentialId),
        isResidentCredential: c.isResidentCredential,
        rpId: c.rpId,
        userHandle: c.userHandle === undefined ? undefined : toBase64url(c.userHandle),
        signCount: c.signCount,
        userName: c.userName,
      }));
    },
    clearCredentials: async () => {
      await cdp.send('WebAuthn.clearCredentials', id);
    },
    removeCredential: async (credentialId) => {
      await cdp.send('WebAuthn.removeCredential', { ...id, credentialId: toBase64(credentialId) });
    },
    cancelNext: async () => {
      await cdp.send('WebAuthn.setUserVerified', { ...id, isUserVerified: false });
    },
    resume: async () => {
      await cdp.send('WebAuthn.setUserVerified', { ...id, isUserVerified: true });
    },
    // Chromium accepts setCredentialProperties({ signCount }) but ignores it: the passkey is put
    // back with its own key and the new counter instead.
    setSignCount: async (credentialId, signCount) => {
      const { credential } = await cdp.send('WebAuthn.getCredential', { ...id, credentialId: toBase64(credentialId) });
      await cdp.send('WebAuthn.removeCredential', { ...id, credentialId: credential.credentialId });
      await cdp.send('WebAuthn.addCredential', { ...id, credential: { ...credential, signCount } });
    },
    withoutUserVerificationFlag: async (enabled) => {
      await cdp.send('WebAuthn.setResponseOverrideBits', { ...id, isBadUV: enabled });
    },
    nextAssertion: () =>
      new Promise((resolve) => {
        cdp.once('WebAuthn.credentialAsserted', (event) => resolve(toBase64url(event.credential.credentialId)));
      }),
    remove: async () => {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', id);
      await cdp.detach();
    },
  };
}
