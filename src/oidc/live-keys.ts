// Signing keys of a running process follow the store: `keys rotate` (the CLI, on any machine with
// the database) changes the stored key set, and every serving process picks it up within
// KEYS_REFRESH_SECONDS, without a restart.
//
// oidc-provider reads `jwks` once, in its constructor (lib/provider.js → initialize_keystore.js),
// and keeps the key store and the published JWKS in its private state; ID tokens, userinfo and
// introspection JWTs look the key store up there each time they sign or verify. Running that same
// initialiser again on the live provider replaces both at once (one synchronous assignment: a
// request signing meanwhile uses the old or the new set, never half of one). That is cheaper and
// safer than building a second Provider and swapping it behind the HTTP server: everything that
// holds the provider (interactions, sessions, the client registry) keeps working on the one
// instance. The price is two module paths that are not oidc-provider's public API, so
// `checkLiveKeySupport` runs at start: an upgrade that moves them fails the start (and every
// test), it cannot silently stop the rotation.
//
// Why polling works without coordination: a rotated-in current key was published as `next` a whole
// rotation earlier, so a process that has not yet seen the rotation still verifies (and publishes)
// what the others sign with, and the retired key stays published everywhere. Only the new `next`
// appears late, and nothing signs with it before the following rotation.
import initializeKeyStore from 'oidc-provider/lib/helpers/initialize_keystore.js';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import type { Provider } from 'oidc-provider';
import type { Store } from '../store/port.ts';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { keySetVersion, loadSigningKeys, signingKeySetVersion, toProviderJwks, type SigningKey } from './keys.ts';

function publishedKids(provider: Provider): string[] | undefined {
  const keys = instance(provider)?.jwks?.keys;
  return Array.isArray(keys) ? keys.map((k) => String(k.kid)) : undefined;
}

/** Gives a running provider a new key set; throws when oidc-provider did not take it. */
function replaceProviderKeys(provider: Provider, keys: readonly SigningKey[]): void {
  const jwks = toProviderJwks(keys);
  initializeKeyStore.call(provider, jwks);
  const published = publishedKids(provider);
  const expected = jwks.keys.map((k) => String(k.kid));
  if (!published || published.join() !== expected.join()) {
    throw new Error('oidc-provider did not take the new signing keys: its internals changed (see src/oidc/live-keys.ts)');
  }
}

/** At start: the provider's key state is where live rotation expects it (an upgrade may move it). */
export function checkLiveKeySupport(provider: Provider, keys: readonly SigningKey[]): void {
  replaceProviderKeys(provider, keys);
}

export interface LiveSigningKeysOptions {
  store: Store;
  box: SecretBox;
  clock: Clock;
  logger: Logger;
}

export class LiveSigningKeys {
  private version: string;

  constructor(
    private readonly provider: Provider,
    private keys: readonly SigningKey[],
    private readonly options: LiveSigningKeysOptions,
  ) {
    checkLiveKeySupport(provider, keys);
    this.version = keySetVersion(keys);
  }

  /** The keys the provider signs with and publishes now (current first). */
  current(): readonly SigningKey[] {
    return this.keys;
  }

  /**
   * One indexed read of the stored key set; only when it differs from ours (or a retired key's
   * time is up) are the keys opened and handed to the provider. True when they changed.
   */
  async refresh(): Promise<boolean> {
    const { store, box, clock, logger } = this.options;
    const now = clock.now();
    const stored = await signingKeySetVersion(store);
    const retiredExpired = this.keys.some((k) => k.stage === 'retired' && (k.removeAfter ?? 0) <= now);
    if (stored === this.version && !retiredExpired) return false;
    const keys = await loadSigningKeys(store, box, now);
    const version = keySetVersion(keys);
    if (version === this.version) return false;
    replaceProviderKeys(this.provider, keys);
    this.keys = keys;
    this.version = version;
    logger.info({ current: keys.filter((k) => k.stage === 'current').map((k) => String(k.jwk.kid)), published: keys.length }, 'signing keys reloaded from the store');
    return true;
  }

  /** Refreshes every `seconds` until the returned function is called; failures keep the old keys. */
  poll(seconds: number): () => void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.refresh()
        .catch((error: Error) => this.options.logger.warn({ err: error.message }, 'signing keys could not be reloaded; keeping the loaded ones'))
        .finally(() => {
          running = false;
        });
    }, seconds * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}
