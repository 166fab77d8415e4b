// What every process that opens the store does before it reads or writes a sealed value: the
// secrets-at-rest migration, the signing and cookie keys (opening them proves SECRETS_KEY is the
// right one), then the binding of phone numbers and TOTP secrets to their owner
// (accounts/bound-secrets.ts). The server runs it before it listens (web/app.ts); the CLI runs it
// before its command on an installation that has keys (admin/cli/context.ts). Without the latter,
// a command that seals a value bound — `user add --phone`, a `db import` — on an installation of
// the previous version, before the server's first start of this one, would leave one bound value
// beside the old unbound ones: that start would take the installation for bound already and
// re-seal none of them (review of the re-seal).
import type { Services } from './services.ts';
import { migrateSecretsAtRest } from './oidc/secrets-at-rest.ts';
import { loadCookieKeys, loadSigningKeys, type SigningKey } from './oidc/keys.ts';
import { bindSealedSecrets, phoneRebinder } from './accounts/bound-secrets.ts';
import { rebindTotpSecrets } from './factors/totp/totp-binding.ts';

export interface OpenedKeys {
  signingKeys: SigningKey[];
  cookieKeys: string[];
}

export async function prepareSealedStore(services: Services): Promise<OpenedKeys> {
  const { store, box, clock, logger } = services;
  await migrateSecretsAtRest(store, box, services.modelSecrets, clock.now(), logger);
  const signingKeys = await loadSigningKeys(store, box, clock.now());
  const cookieKeys = await loadCookieKeys(store, box);
  // After the keys: values open only with the right SECRETS_KEY, so a mistyped one stops here,
  // before the re-seal could take every value for unreadable and record that it ran.
  await bindSealedSecrets(store, box, { phones: phoneRebinder(store, services.accounts), totp: (write) => rebindTotpSecrets(store, box, write) }, clock.now(), logger);
  return { signingKeys, cookieKeys };
}
