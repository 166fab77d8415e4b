// Lifting a lock: a patient who set a new password (a forced change now; self-service recovery and
// unlock next) is no longer locked out by the guesses that came before it (accounts/lockout.ts).
import type { AfterHook } from './hook.ts';

export const clearLockHook: AfterHook = {
  name: 'clear-lock',
  async run({ services, account }, events) {
    if (account && events.some((e) => e.type === 'password_changed')) await services.lockout.unlock(account);
  },
};
