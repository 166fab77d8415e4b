// oidc-provider's storage adapter, backed by our store port. Clients come from the client
// store (registered by admins); every other model from the generic OIDC model store, under hashed
// ids with sealed payloads (model-secrets.ts).
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { Store, OidcRecord } from '../store/port.ts';
import { providerSafe } from './unavailable.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { ModelSecrets } from './model-secrets.ts';
import { openClientSecret, sealClientSecret } from './client-secrets.ts';

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
  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {
    this.cache = cacheFor(store);
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) return { ...hit.payload };
    const client = await providerSafe(() => this.store.clients.find(id));
    // A disabled portal (admin operations) is unknown to oidc-provider: no login, no token, no
    // refresh, no introspection, until it is enabled again; its metadata stays as it was.
    if (!client || client.metadata.disabled === true) {
      this.cache.delete(id);
      return undefined;
    }
    const payload = openClientSecret(this.box, { ...client.metadata, client_id: client.clientId }) as AdapterPayload;
    this.cache.set(id, { until: now + CLIENT_CACHE_MS, payload });
    return { ...payload };
  }
  // oidc-provider writes clients only for dynamic registration (registration.ts): stored sealed,
  // like every client; the admin operations write through ClientRegistry.
  async upsert(id: string, payload: AdapterPayload): Promise<void> {
    const existing = await providerSafe(() => this.store.clients.find(id));
    const now = this.clock.now();
    const metadata = sealClientSecret(this.box, { ...(payload as Record<string, unknown>), client_id: id, self_registered: true });
    await providerSafe(() => this.store.clients.put({ clientId: id, metadata, createdAt: existing?.createdAt ?? now, updatedAt: now }));
    this.cache.delete(id);
  }
  async findByUid(): Promise<undefined> { return undefined; }
  async findByUserCode(): Promise<undefined> { return undefined; }
  async consume(): Promise<void> {}
  async destroy(id: string): Promise<void> {
    await providerSafe(() => this.store.clients.remove(id));
    this.cache.delete(id);
  }
  async revokeByGrantId(): Promise<void> {}
}

// oidc-provider checks `consumed` on the record it read, then consumes: two processes (or two
// requests) can both pass that check. The store's consume is a compare-and-swap, and whoever loses
// it is refused here the way oidc-provider refuses a replay: invalid_grant, and the grant revoked.
const REPLAY_MESSAGES: Record<string, string> = {
  RefreshToken: 'refresh token already used',
  AuthorizationCode: 'authorization code already consumed',
};

// A refresh-token rotation is consume(old), save(new refresh token), then save(access token) in
// the same request (oidc-provider's refresh_token grant), and only then is the response built. The
// consumption and the new refresh token wait, and all three go to the store as one atomic `rotate`
// with the access token's save: when any of them cannot be stored (disk full), nothing is, the old
// token stays usable and the portal's retry is a retry, not a replay that revokes the grant. If the
// request fails before the access token is saved, nothing was consumed and no token handed out.
// Keyed by the request's context, which oidc-provider exposes. (This relies on the access token
// being stored, as opaque tokens are; resource indicators with JWT access tokens would need more.)
interface PendingRotation {
  consumed: string;
  next?: { key: string; stored: Record<string, unknown>; expiresAt: number | null; grantId: string | undefined };
}
const pendingRotations = new WeakMap<object, PendingRotation>();

class ModelAdapter implements Adapter {
  constructor(
    private readonly store: Store,
    private readonly model: string,
    private readonly clock: Clock,
    private readonly secrets: ModelSecrets,
  ) {}

  // Every call goes through providerSafe: an unavailable store is a 503 for oidc-provider, not a 500.
  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    return providerSafe(() => this.save(id, payload, expiresIn));
  }
  find(id: string): Promise<AdapterPayload | undefined> {
    return providerSafe(async () => this.toPayload(await this.store.oidc.find(this.model, this.secrets.key(id), this.clock.now()), 'jti', id));
  }
  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return providerSafe(async () => this.toPayload(await this.store.oidc.findByUid(this.model, this.secrets.key(uid), this.clock.now()), 'uid', uid));
  }
  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return providerSafe(async () => this.toPayload(await this.store.oidc.findByUserCode(this.model, this.secrets.key(userCode), this.clock.now()), 'userCode', userCode));
  }
  consume(id: string): Promise<void> {
    return providerSafe(() => this.spend(id));
  }
  destroy(id: string): Promise<void> {
    return providerSafe(() => this.store.oidc.destroy(this.model, this.secrets.key(id)));
  }
  revokeByGrantId(grantId: string): Promise<void> {
    return providerSafe(() => this.store.oidc.revokeByGrantId(this.secrets.key(grantId)));
  }

  private async save(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const now = this.clock.now();
    // A refresh token's row keeps its own expiry, not its grant's: a later sign-in renews the grant
    // (lifetimes.ts) without rewriting its tokens, and oidc-provider refuses a token whose grant
    // is gone. Capping the row would make an offline token vanish before its time.
    const expiresAt = expiresIn ? now + expiresIn * 1000 : null;
    const key = this.secrets.key(id);
    const stored = this.secrets.seal(this.model, key, payload as Record<string, unknown>);
    const ctx = this.model === 'RefreshToken' || this.model === 'AccessToken' ? Provider.ctx : undefined;
    const pending = ctx ? pendingRotations.get(ctx) : undefined;
    if (ctx && pending && this.model === 'RefreshToken' && !pending.next) {
      pending.next = { key, stored, expiresAt, grantId: typeof payload.grantId === 'string' ? payload.grantId : undefined };
      return;
    }
    if (ctx && pending?.next && this.model === 'AccessToken') {
      pendingRotations.delete(ctx);
      const { next } = pending;
      const rotated = await this.store.oidc.rotate('RefreshToken', this.secrets.key(pending.consumed), next.key, next.stored, next.expiresAt, now, [{ model: this.model, id: key, payload: stored, expiresAt }]);
      if (!rotated) await this.refuseReplay(next.grantId, 'RefreshToken');
      return;
    }
    await this.store.oidc.upsert(this.model, key, stored, expiresAt);
  }
  private async spend(id: string): Promise<void> {
    const ctx = this.model === 'RefreshToken' ? Provider.ctx : undefined;
    if (ctx) {
      pendingRotations.set(ctx, { consumed: id });
      return;
    }
    const key = this.secrets.key(id);
    if (await this.store.oidc.consume(this.model, key, this.clock.now())) return;
    const grantId = this.toPayload(await this.store.oidc.find(this.model, key, this.clock.now()), 'jti', id)?.grantId;
    await this.refuseReplay(typeof grantId === 'string' ? grantId : undefined);
  }

  private toPayload(record: OidcRecord | undefined, member: 'jti' | 'uid' | 'userCode', value: string): AdapterPayload | undefined {
    if (!record) return undefined;
    const opened = this.secrets.open(this.model, record.payload, { member, value });
    if (!opened) return undefined;
    const payload = opened as AdapterPayload;
    if (record.consumedAt !== null) payload.consumed = Math.floor(record.consumedAt / 1000);
    return payload;
  }

  /** A second redemption: revoke the grant, as oidc-provider does on reuse, and refuse it. */
  private async refuseReplay(grantId: string | undefined, model = this.model): Promise<never> {
    if (grantId !== undefined) {
      const key = this.secrets.key(grantId);
      await Promise.all([this.store.oidc.revokeByGrantId(key), this.store.oidc.destroy('Grant', key)]);
      const ctx = Provider.ctx;
      ctx?.oidc.provider.emit('grant.revoked', ctx, grantId);
    }
    throw new errors.InvalidGrant(REPLAY_MESSAGES[model] ?? `${model} already consumed`);
  }
}

export function adapterFactory(store: Store, clock: Clock, box: SecretBox, secrets: ModelSecrets): (model: string) => Adapter {
  const clients = new ClientAdapter(store, box, clock);
  return (model) => (model === 'Client' ? clients : new ModelAdapter(store, model, clock, secrets));
}
