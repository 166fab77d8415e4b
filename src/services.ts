// The application's parts, built once in main.ts (or a test) and handed down. Everything that
// needs time takes it from `clock`, so tests can move it.
import type { Config } from './config.ts';
import type { Store } from './store/port.ts';
import type { Clock } from './clock.ts';
import type { Logger } from './log.ts';
import type { Accounts } from './accounts/accounts.ts';
import type { Passwords } from './accounts/passwords.ts';
import type { Limits } from './accounts/limits.ts';
import type { Audit } from './accounts/audit.ts';
import type { Lockout } from './accounts/lockout.ts';
import type { SecretBox } from './accounts/secret-box.ts';
import type { OneTimeCodes } from './accounts/one-time-codes.ts';
import type { RememberedDevices } from './accounts/remembered-devices.ts';
import type { DeliveryService } from './delivery/index.ts';
import type { DevOutbox } from './delivery/dev-outbox.ts';
import type { PasswordProfiles } from './accounts/password-profiles.ts';
import type { PasswordLifecycle } from './accounts/password-lifecycle.ts';
import type { Metrics } from './metrics/metrics.ts';
import type { Captcha } from './accounts/captcha.ts';
import type { KeyedHash } from './accounts/keyed-hash.ts';
import type { PasswordChange } from './actions/update-password/password-change.ts';
import type { ModelSecrets } from './oidc/model-secrets.ts';
import type { AccountRevocation } from './oidc/account-revocation.ts';
import type { Invitations } from './accounts/invitations.ts';

export interface Services {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  box: SecretBox;
  accounts: Accounts;
  passwords: Passwords;
  limits: Limits;
  lockout: Lockout;
  audit: Audit;
  codes: OneTimeCodes;
  devices: RememberedDevices;
  delivery: DeliveryService;
  outbox: DevOutbox | undefined;
  passwordProfiles: PasswordProfiles;
  /** Changing, resetting and issuing passwords under the profiles (accounts/password-lifecycle.ts). */
  passwordLifecycle: PasswordLifecycle;
  metrics: Metrics;
  /** What the update-password action calls to change a password (the password lifecycle puts its own behind it). */
  passwordChange: PasswordChange;
  /** How oidc-provider's records are kept at rest (hashed ids, sealed payloads). */
  modelSecrets: ModelSecrets;
  /** Ends an account's sign-ins (sessions, grants, tokens): a password change does. */
  signIns: AccountRevocation;
  /** The recovery flow's proof-of-work CAPTCHA (accounts/captcha.ts). */
  captcha: Captcha;
  /** Keyed hashes of typed names and numbers (accounts/keyed-hash.ts). */
  keyedHash: KeyedHash;
  /** Invitations to activate an account (accounts/invitations.ts; the activation flow accepts them). */
  invitations: Invitations;
}
