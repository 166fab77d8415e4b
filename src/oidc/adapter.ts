// oidc-provider's storage adapter, backed by our store port. Clients come from the client
// store (registered by admins); every other model from the generic OIDC model store.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Store, OidcRecord } from '../store/port.ts';
import { providerSafe } from './unavailable.ts';

function toPayload(record: OidcRecord | undefined): AdapterPayload | undefined {
  if (!record) return undefined;
  const payload = { ...record.payload } as AdapterPayload;
  if (record.consumedAt !== null) payload.consumed = Math.floor(record.consumedAt / 1000);
  return payload;
}

// Clients are read on every token, introspection and authorization request; a few seconds of
// caching saves a store read each time. Unknown ids are not cached, so a new client works at once;
// a changed or removed client is seen within CLIENT_CACHE_MS.
const CLIENT_CACHE_MS = 5000;

type ClientCache = Map<string, { until: number; payload: AdapterPayload }>;
const cachesByStore = new WeakMap<Store, ClientCache>();

function cacheFor(store: Store): ClientCache {
  let cache = cachesByStore.get(store);
  if (!cache) {
    cache = new Map();
    cachesByStore.set(store, cache);
  }
  return cache;
}

/** Drops a cached client after a change through the registry in this process. */
export function forgetCachedClient(store: Store, clientId: string): void {
  cachesByStore.get(store)?.delete(clientId);
}

class ClientAdapter implements Adapter {
  private readonly cache: ClientCache;
  constructor(private readonly store: Store) {
    this.cache = cacheFor(store);
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return { ...hit.payload };
    const client = await providerSafe(() => this.store.clients.find(id));
    if (!client) {
      this.cache.delete(id);
      return undefined;
    }
    const payload = { ...client.metadata, client_id: client.clientId } as AdapterPayload;
    this.cache.set(id, { until: now + CLIENT_CACHE_MS, payload });
    return { ...payload };
  }
  // Clients are written only through the admin interface, never by oidc-provider.
  async upsert(): Promise<void> {}
  async findByUid(): Promise<undefined> { return undefined; }
  async findByUserCode(): Promise<undefined> { return undefined; }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

class ModelAdapter implements Adapter {
  constructor(
    private readonly store: Store,
    private readonly model: string,
  ) {}

  // Every call goes through providerSafe: an unavailable store is a 503 for oidc-provider, not a 500.
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
    return providerSafe(() => this.store.oidc.upsert(this.model, id, payload as Record<string, unknown>, expiresAt));
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return toPayload(await providerSafe(() => this.store.oidc.find(this.model, id, Date.now())));
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return toPayload(await providerSafe(() => this.store.oidc.findByUid(this.model, uid, Date.now())));
  }
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return toPayload(await providerSafe(() => this.store.oidc.findByUserCode(this.model, userCode, Date.now())));
  }
  consume(id: string): Promise<void> {
    return providerSafe(() => this.store.oidc.consume(this.model, id, Date.now()));
  }
  destroy(id: string): Promise<void> {
    return providerSafe(() => this.store.oidc.destroy(this.model, id));
  }
  revokeByGrantId(grantId: string): Promise<void> {
    return providerSafe(() => this.store.oidc.revokeByGrantId(grantId));
  }
}

export function adapterFactory(store: Store): (model: string) => Adapter {
  const clients = new ClientAdapter(store);
  return (model) => (model === 'Client' ? clients : new ModelAdapter(store, model));
}
