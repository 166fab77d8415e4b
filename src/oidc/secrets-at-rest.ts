// The one-off migration that brings a store written before secrets were kept sealed up to date:
// signing and cookie keys sealed (keys.ts does that whenever it loads them), oidc models moved
// under hashed ids with sealed payloads, client secrets sealed. Live tokens, sessions and client
// secrets keep working: the same values, stored differently. Afterwards the store is compacted so
// the plain values do not linger in free pages or the write-ahead log.
//
// Every step is idempotent and checks what it finds, so processes starting together may all run
// it; a marker lets later starts skip the full scan. All old-version processes must be stopped
// first: one still running would keep writing plain records.
import type { Store } from '../store/port.ts';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { Logger } from '../log.ts';
import { keysInTheClear, loadCookieKeys, loadSigningKeys } from './keys.ts';
import { ModelSecrets } from './model-secrets.ts';
import { clientSecretInTheClear, sealClientSecret } from './client-secrets.ts';

const MARKER = 'store.secrets-at-rest';
const VERSION = 1;

export interface MigrationReport {
  keys: boolean;
  models: number;
  clients: number;
}

export async function migrateSecretsAtRest(store: Store, box: SecretBox, secrets: ModelSecrets, now: number, logger?: Logger): Promise<MigrationReport | undefined> {
  if ((await store.settings.get<{ version: number }>(MARKER))?.version === VERSION) return undefined;

  const keys = await keysInTheClear(store);
  await loadSigningKeys(store, box, now);
  await loadCookieKeys(store, box);

  const models = await store.oidc.rewriteAll((model, id, payload) =>
    ModelSecrets.inTheClear(payload) ? { id: secrets.key(id), payload: secrets.seal(model, payload) } : undefined);

  let clients = 0;
  for (const client of await store.clients.list()) {
    if (!clientSecretInTheClear(client.metadata)) continue;
    await store.clients.put({ ...client, metadata: sealClientSecret(box, client.metadata) });
    clients += 1;
  }

  await store.settings.putIfAbsent(MARKER, { version: VERSION, at: new Date(now).toISOString() });
  const report = { keys, models, clients };
  if (keys || models || clients) {
    await store.compact();
    logger?.info(report, 'sealed the secrets an earlier version stored in the clear');
  }
  return report;
}
