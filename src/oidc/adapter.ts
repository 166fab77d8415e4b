// oidc-provider's storage adapter, backed by our store port. Clients come from the client
// store (registered by admins); every other model from the generic OIDC model store.
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Store, OidcRecord } from '../store/port.ts';
import type { Clock } from '../clock.ts';

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
    const client = await this.store.clients.find(id);
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

// oidc-provider checks `consumed` on the record it read, then consumes: two processes (or two
// requests) can both pass that check. The store's consume is a compare-and-swap, and whoever loses
// it is refused here the way oidc-provider refuses a replay: invalid_grant, and the grant revoked.
const REPLAY_MESSAGES: Record<string, string> = {
  RefreshToken: 'refresh token already used',
  AuthorizationCode: 'authorization code already consumed',
};

// A refresh-token rotation is consume(old) followed by save(new) in the same request. The
// consumption waits for the save, and both go to the store as one atomic `rotate`: when the new
// token cannot be stored (disk full), the old one stays usable and the client's retry is not
// mistaken for a replay. Keyed by the request's context, which oidc-provider exposes.
const pendingRotations = new WeakMap<object, string>();

class ModelAdapter implements Adapter {
  constructor(
    private readonly store: Store,
    private readonly model: string,
    private readonly clock: Clock,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const now = this.clock.now();
    const expiresAt = expiresIn ? now + expiresIn * 1000 : null;
    const record = payload as Record<string, unknown>;
    const ctx = this.model === 'RefreshToken' ? Provider.ctx : undefined;
    const consumed = ctx ? pendingRotations.get(ctx) : undefined;
    if (ctx && consumed !== undefined) {
      pendingRotations.delete(ctx);
      if (!(await this.store.oidc.rotate(this.model, consumed, id, record, expiresAt, now))) {
        await this.refuseReplay(typeof record.grantId === 'string' ? record.grantId : undefined);
      }
      return;
    }
    await this.store.oidc.upsert(this.model, id, record, expiresAt);
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.store.oidc.find(this.model, id, this.clock.now()));
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.store.oidc.findByUid(this.model, uid, this.clock.now()));
  }
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.store.oidc.findByUserCode(this.model, userCode, this.clock.now()));
  }
  async consume(id: string): Promise<void> {
    const ctx = this.model === 'RefreshToken' ? Provider.ctx : undefined;
    if (ctx) {
      pendingRotations.set(ctx, id);
      return;
    }
    if (await this.store.oidc.consume(this.model, id, this.clock.now())) return;
    const record = await this.store.oidc.find(this.model, id, this.clock.now());
    const grantId = record?.payload.grantId;
    await this.refuseReplay(typeof grantId === 'string' ? grantId : undefined);
  }
  destroy(id: string): Promise<void> {
    return this.store.oidc.destroy(this.model, id);
  }
  revokeByGrantId(grantId: string): Promise<void> {
    return this.store.oidc.revokeByGrantId(grantId);
  }

  /** A second redemption: revoke the grant, as oidc-provider does on reuse, and refuse it. */
  private async refuseReplay(grantId: string | undefined): Promise<never> {
    if (grantId !== undefined) {
      await Promise.all([this.store.oidc.revokeByGrantId(grantId), this.store.oidc.destroy('Grant', grantId)]);
      const ctx = Provider.ctx;
      ctx?.oidc.provider.emit('grant.revoked', ctx, grantId);
    }
    throw new errors.InvalidGrant(REPLAY_MESSAGES[this.model] ?? `${this.model} already consumed`);
  }
}

export function adapterFactory(store: Store, clock: Clock): (model: string) => Adapter {
  const clients = new ClientAdapter(store);
  return (model) => (model === 'Client' ? clients : new ModelAdapter(store, model, clock));
}
