// Portals (relying parties): register with every field of `client add` plus brand and policy,
// read, change (If-Match), rotate the secret with a grace period, disable, enable, delete.
import { randomBytes } from 'node:crypto';
import { ClientValidationError, type ClientInput } from '../../oidc/client-registry.ts';
import { isInternalClient } from '../../oidc/internal-clients.ts';
import { ACR_VALUES } from '../../oidc/assurance.ts';
import { PREVIOUS_SECRET, PREVIOUS_SECRET_EXPIRES_AT } from '../../oidc/client-secrets.ts';
import type { ClientRecord } from '../../store/port.ts';
import { confinement, type Actor } from './actor.ts';
import { ForbiddenError, organisationsAfterChange, organisationsForNew, requirePermission, requireReach, withinReach } from './access.ts';
import { recordAdminEvent, type AdminDeps } from './context.ts';
import { OperationError, notFound } from './errors.ts';
import { checkIfMatch, etagOf } from './etag.ts';
import { PortalCreate, PortalUpdate } from './schemas.ts';
import { parseInput } from './validate.ts';
import { requireOrganisationsExist } from './organisations.ts';

/** Never shown after registration: the secret and the one a rotation replaced. */
const HIDDEN = new Set(['client_secret', PREVIOUS_SECRET, PREVIOUS_SECRET_EXPIRES_AT]);

export interface PortalView {
  client_id: string;
  created_at: string;
  updated_at: string;
  disabled: boolean;
  organisations: string[];
  metadata: Record<string, unknown>;
  secret_rotation: { previous_valid_until: string } | null;
}

const fullAcr = (short: string) => ACR_VALUES.find((value) => value === short || value === `urn:poortwachter:acr:${short}`) ?? short;

function view(record: ClientRecord, organisations: string[]): PortalView {
  const until = record.metadata[PREVIOUS_SECRET_EXPIRES_AT];
  return {
    client_id: record.clientId,
    created_at: new Date(record.createdAt).toISOString(),
    updated_at: new Date(record.updatedAt).toISOString(),
    disabled: record.metadata.disabled === true,
    organisations,
    metadata: Object.fromEntries(Object.entries(record.metadata).filter(([key]) => !HIDDEN.has(key))),
    secret_rotation: typeof until === 'number' ? { previous_valid_until: new Date(until * 1000).toISOString() } : null,
  };
}

/** Metadata properties of a create or update body (everything but ids, type and organisations). */
function metadataOf(input: Record<string, unknown>): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (['client_id', 'type', 'scopes', 'organisations', 'client_credentials'].includes(key) || value === undefined) continue;
    metadata[key] = key === 'min_acr' && typeof value === 'string' ? fullAcr(value) : key === 'brand_color' && typeof value === 'string' ? value.toLowerCase() : value;
  }
  if (metadata.backchannel_logout_uri) metadata.backchannel_logout_session_required = true;
  return metadata;
}

const invalid = (error: unknown): never => {
  if (error instanceof ClientValidationError) throw new OperationError('invalid_input', error.message);
  throw error;
};

export class PortalOperations {
  constructor(private readonly deps: AdminDeps) {}

  private get store() {
    return this.deps.services.store;
  }

  /** The portal as the actor may see it, with its organisations; absent when out of reach. */
  private async load(actor: Actor, clientId: string): Promise<{ record: ClientRecord; organisations: string[] }> {
    const record = isInternalClient(clientId) ? undefined : await this.store.clients.find(clientId);
    if (!record) throw notFound(`portal ${clientId}`);
    const organisations = await this.store.organisations.memberships('client', clientId);
    requireReach(actor, organisations, `portal ${clientId}`);
    return { record, organisations };
  }

  async list(actor: Actor): Promise<PortalView[]> {
    requirePermission(actor, 'portals:read');
    const views: PortalView[] = [];
    for (const record of await this.store.clients.list()) {
      if (isInternalClient(record.clientId)) continue;
      const organisations = await this.store.organisations.memberships('client', record.clientId);
      if (withinReach(actor, organisations)) views.push(view(record, organisations));
    }
    return views;
  }

  async get(actor: Actor, clientId: string): Promise<{ portal: PortalView; etag: string }> {
    requirePermission(actor, 'portals:read');
    const { record, organisations } = await this.load(actor, clientId);
    const portal = view(record, organisations);
    return { portal, etag: etagOf(portal) };
  }

  /** Registers a portal; the secret is in this answer only. */
  async register(actor: Actor, body: unknown): Promise<{ portal: PortalView; clientSecret?: string; etag: string }> {
    requirePermission(actor, 'portals:write');
    const input = parseInput(PortalCreate, body);
    const service = input.type === 'service';
    // A machine client of this API holds admin powers: only operators hand those out.
    if (service && !isOperator(actor)) {
      throw new ForbiddenError('only an operator may register an API (service) client');
    }
    // No consent screen is a promise that the portal is the deployment's own: not for a practice to
    // make about a portal it names and brands itself (review of the console, finding 7).
    if (input.first_party === true && confinement(actor) !== 'all') throw new ForbiddenError('only an operator may mark a portal first-party (no consent screen)');
    if (service && !input.scopes?.length) throw new OperationError('invalid_input', 'a service client needs scopes', [{ field: 'scopes', message: 'required' }]);
    if (!service && input.scopes) throw new OperationError('invalid_input', 'scopes are for service clients only', [{ field: 'scopes', message: 'not allowed' }]);
    if (!service && !input.redirect_uris?.length) throw new OperationError('invalid_input', 'a portal needs at least one redirect URI', [{ field: 'redirect_uris', message: 'required' }]);
    const organisations = organisationsForNew(actor, input.organisations);
    await requireOrganisationsExist(this.deps, organisations);

    const metadata = metadataOf(input);
    if (service) Object.assign(metadata, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], admin_scopes: input.scopes });
    const registryInput: ClientInput = {
      name: input.client_name,
      redirectUris: input.redirect_uris ?? [],
      public: input.type === 'public',
      clientCredentials: input.client_credentials === true,
      clientId: input.client_id,
      metadata,
    };
    const registry = await this.deps.clients();
    const created = await registry.add(registryInput).catch(invalid);
    await this.store.organisations.setMemberships('client', created.clientId, organisations);
    await recordAdminEvent(this.deps, actor, { type: 'admin.client.added', outcome: 'added', clientId: created.clientId, detail: { type: input.type, organisations } });
    const { portal, etag } = await this.get(actor, created.clientId);
    return { portal, etag, ...(created.clientSecret ? { clientSecret: created.clientSecret } : {}) };
  }

  /** Changes what the body names; `null` removes a setting. `ifMatch`: the ETag of the read it is based on. */
  async update(actor: Actor, clientId: string, body: unknown, ifMatch?: string): Promise<{ portal: PortalView; etag: string; changed: string[] }> {
    requirePermission(actor, 'portals:write');
    const input = parseInput(PortalUpdate, body);
    const { record, organisations } = await this.load(actor, clientId);
    if (input.first_party === true && confinement(actor) !== 'all') throw new ForbiddenError('only an operator may mark a portal first-party (no consent screen)');
    checkIfMatch(ifMatch, etagOf(view(record, organisations)));
    const changes: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(input)) {
      if (key === 'organisations' || key === 'client_credentials' || value === undefined) continue;
      changes[key] = value === null ? undefined : metadataOf({ [key]: value })[key];
      if (key === 'backchannel_logout_uri') changes.backchannel_logout_session_required = value === null ? undefined : true;
    }
    if (input.client_credentials !== undefined && input.client_credentials !== null) {
      if (input.client_credentials && record.metadata.token_endpoint_auth_method === 'none') throw new OperationError('invalid_input', 'a public portal cannot use client_credentials', [{ field: 'client_credentials', message: 'public portal' }]);
      const grants = Array.isArray(record.metadata.grant_types) ? record.metadata.grant_types.filter((g) => g !== 'client_credentials') : ['authorization_code', 'refresh_token'];
      changes.grant_types = input.client_credentials ? [...grants, 'client_credentials'] : grants;
    }
    const changed = Object.keys(input).filter((key) => input[key as keyof typeof input] !== undefined);
    if (!changed.length) throw new OperationError('invalid_input', 'nothing to change');
    if (Object.keys(changes).length) await (await this.deps.clients()).update(clientId, changes).catch(invalid);
    if (input.organisations) {
      const next = organisationsAfterChange(actor, organisations, input.organisations);
      await requireOrganisationsExist(this.deps, next);
      await this.store.organisations.setMemberships('client', clientId, next);
    }
    await recordAdminEvent(this.deps, actor, { type: 'admin.client.updated', outcome: 'updated', clientId, detail: { changed } });
    const after = await this.get(actor, clientId);
    return { ...after, changed };
  }

  /**
   * A new secret, shown once; the old one keeps working for ADMIN_SECRET_GRACE_SECONDS (the token
   * endpoint accepts either meanwhile, oidc/secret-grace.ts), so the portal switches without an outage.
   */
  async rotateSecret(actor: Actor, clientId: string): Promise<{ portal: PortalView; clientSecret: string; previousValidUntil: number | null; etag: string }> {
    requirePermission(actor, 'portals:write');
    const { record } = await this.load(actor, clientId);
    if (record.metadata.token_endpoint_auth_method === 'none') throw new OperationError('conflict', 'a public portal has no secret');
    const registry = await this.deps.clients();
    const current = await registry.secretOf(clientId);
    const grace = this.deps.services.config.admin.secretGraceSeconds;
    const now = this.deps.services.clock.now();
    const previousValidUntil = grace > 0 && current ? Math.floor(now / 1000) + grace : null;
    const clientSecret = randomBytes(32).toString('base64url');
    await registry.update(clientId, {
      client_secret: clientSecret,
      [PREVIOUS_SECRET]: previousValidUntil === null ? undefined : current,
      [PREVIOUS_SECRET_EXPIRES_AT]: previousValidUntil ?? undefined,
    }).catch(invalid);
    await recordAdminEvent(this.deps, actor, {
      type: 'admin.client.secret_rotated', outcome: 'rotated', clientId,
      detail: { previous_valid_until: previousValidUntil === null ? null : new Date(previousValidUntil * 1000).toISOString() },
    });
    const { portal, etag } = await this.get(actor, clientId);
    return { portal, clientSecret, previousValidUntil: previousValidUntil === null ? null : previousValidUntil * 1000, etag };
  }

  /** A disabled portal cannot sign anyone in, get or refresh tokens; its settings stay. */
  async setDisabled(actor: Actor, clientId: string, disabled: boolean): Promise<{ portal: PortalView; etag: string }> {
    requirePermission(actor, 'portals:write');
    const { record } = await this.load(actor, clientId);
    const already = (record.metadata.disabled === true) === disabled;
    if (!already) await (await this.deps.clients()).update(clientId, { disabled: disabled ? true : undefined }).catch(invalid);
    await recordAdminEvent(this.deps, actor, { type: disabled ? 'admin.client.disabled' : 'admin.client.enabled', outcome: already ? 'unchanged' : disabled ? 'disabled' : 'enabled', clientId });
    return this.get(actor, clientId);
  }

  async remove(actor: Actor, clientId: string): Promise<void> {
    requirePermission(actor, 'portals:write');
    await this.load(actor, clientId);
    await (await this.deps.clients()).remove(clientId);
    await this.store.organisations.setMemberships('client', clientId, []);
    await recordAdminEvent(this.deps, actor, { type: 'admin.client.removed', outcome: 'removed', clientId });
  }
}

/** The CLI, or an operator in the console or API: who may hand out admin powers or skip consent. */
function isOperator(actor: Actor): boolean {
  return actor.kind === 'cli' || (actor.kind === 'admin' && actor.role === 'operator');
}
