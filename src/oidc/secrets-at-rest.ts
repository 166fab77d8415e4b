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
import { keysInTheClear, loadCookieKeys, loadSigningKeys, SECRETS_AT_REST_MARKER } from './keys.ts';
import { ModelSecrets } from './model-secrets.ts';
import { clientSecretInTheClear, sealClientSecret } from './client-secrets.ts';

const MARKER = SECRETS_AT_REST_MARKER;
// 2: oidc payloads bound to their record's hashed id (version 1 bound them to the model only), and
// the account id kept beside them (revocation by account).
const VERSION = 2;

export interface MigrationReport {
  keys: boolean;
  models: number;
  clients: number;
}

interface Marker {
  version: number;
  /** False when the compaction after sealing failed (the database was busy): the next start tries again. */
  compacted: boolean;
  at: string;
}

export async function migrateSecretsAtRest(store: Store, box: SecretBox, secrets: ModelSecrets, now: number, logger?: Logger): Promise<MigrationReport | undefined> {
  const marker = await store.settings.get<Marker>(MARKER);
  if (marker?.version === VERSION && marker.compacted !== false) return undefined;

  const keys = await keysInTheClear(store);
  await loadSigningKeys(store, box, now);
  await loadCookieKeys(store, box);

  const models = await store.oidc.rewriteAll((model, id, payload) => secrets.upgrade(model, id, payload));

  let clients = 0;
  for (const client of await store.clients.list()) {
    if (!clientSecretInTheClear(client.metadata)) continue;
    await store.clients.put({ ...client, metadata: sealClientSecret(box, client.metadata) });
    clients += 1;
  }

  const report = { keys, models, clients };
  let compacted = true;
  if (keys || models || clients || marker?.compacted === false) {
    logger?.info(report, 'sealed the secrets an earlier version stored in the clear');
    try {
      await store.compact();
    } catch (error) {
      // Another process kept the database busy. The values are sealed, but their plain remains
      // stay in free pages until compacted: the next start tries again.
      compacted = false;
      logger?.warn({ err: (error as Error).message }, 'could not compact the database after sealing its secrets: run `poortwachter db vacuum`');
    }
  }
  await store.settings.put(MARKER, { version: VERSION, compacted, at: new Date(now).toISOString() } satisfies Marker);
  return report;
}
