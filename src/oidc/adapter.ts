// oidc-provider's storage adapter, backed by our store port. Clients come from the client
// store (registered by admins); every other model from the generic OIDC model store.
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Store, OidcRecord } from '../store/port.ts';

function toPayload(record: OidcRecord | undefined): AdapterPayload | undefined {
  if (!record) return undefined;
  const payload = { ...record.payload } as AdapterPayload;
  if (record.consumedAt !== null) payload.consumed = Math.floor(record.consumedAt / 1000);
  return payload;
}

class ClientAdapter implements Adapter {
  constructor(private readonly store: Store) {}
  async find(id: string): Promise<AdapterPayload | undefined> {
    const client = await this.store.clients.find(id);
    return client ? ({ ...client.metadata, client_id: client.clientId } as AdapterPayload) : undefined;
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

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : null;
    return this.store.oidc.upsert(this.model, id, payload as Record<string, unknown>, expiresAt);
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.store.oidc.find(this.model, id, Date.now()));
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.store.oidc.findByUid(this.model, uid, Date.now()));
  }
  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return toPayload(await this.store.oidc.findByUserCode(this.model, userCode, Date.now()));
  }
  consume(id: string): Promise<void> {
    return this.store.oidc.consume(this.model, id, Date.now());
  }
  destroy(id: string): Promise<void> {
    return this.store.oidc.destroy(this.model, id);
  }
  revokeByGrantId(grantId: string): Promise<void> {
    return this.store.oidc.revokeByGrantId(grantId);
  }
}

export function adapterFactory(store: Store): (model: string) => Adapter {
  return (model) => (model === 'Client' ? new ClientAdapter(store) : new ModelAdapter(store, model));
}
