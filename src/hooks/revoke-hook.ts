// Revocation: what stands in for a sign-in must not outlive the change that made it stale. A
// remembered device replays a second-factor proof, so it goes when a factor is set up again or
// removed, when the patient asks, and when the password changes (accounts/passwords.ts does that
// itself too). A password change's other sessions, grants and tokens are ended by the password
// lifecycle itself (oidc/account-revocation.ts, with back-channel logout to the portals).
import type { AfterHook } from './hook.ts';

const REVOKING = new Set(['authenticator_bound', 'factor_removed', 'devices_forgotten', 'password_changed']);

export const revokeHook: AfterHook = {
  name: 'revoke',
  async run({ services, account }, events) {
    if (account && events.some((e) => REVOKING.has(e.type))) await services.devices.forgetAll(account.id);
  },
};
