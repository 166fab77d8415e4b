// Registering portals (relying parties). Metadata is validated by oidc-provider itself before it
// is stored, so a client the CLI accepts is a client the provider will load.
import type Provider from 'oidc-provider';
import { randomBytes } from 'node:crypto';
import type { ClientRecord, Store } from '../store/port.ts';
import type { Clock } from '../clock.ts';
import type { RecoveryLabel, RecoveryMethod, SecondFactorId } from './client-policy.ts';
import { forgetCachedClient } from './adapter.ts';
import { DEFAULT_PROFILE_NAME } from '../accounts/password-profile.ts';
import { profileNameOf } from '../accounts/password-profiles.ts';
import type { SecretBox } from '../accounts/secret-box.ts';
import { openClientSecret, sealClientSecret } from './client-secrets.ts';

export interface ClientInput {
  name: string;
  redirectUris: string[];
  public?: boolean;
  firstParty?: boolean;
  postLogoutRedirectUris?: string[];
  backchannelLogoutUri?: string;
  clientCredentials?: boolean;
  mfa?: 'required' | 'optional';
  mfaMethods?: SecondFactorId[];
  rememberDevice?: boolean;
  minAcr?: string;
  smsSender?: string;
  /** A stored password profile's name (`default` is the same as none). */
  passwordProfile?: string;
  mailFrom?: string;
  recoveryLabel?: RecoveryLabel;
  recoveryMethods?: RecoveryMethod[];
  clientId?: string;
  /** Further metadata as stored (brand and switches, e.g. `brand_color`), validated with the rest. */
  metadata?: Record<string, unknown>;
}

export class ClientValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientValidationError';
  }
}

function slug(name: string): string {
  return name.toLowerCase().normalize('NFKD').replace(/\p{M}/gu, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 32) || 'portal';
}

export function metadataFromInput(input: ClientInput, clientId: string, secret: string | undefined): Record<string, unknown> {
  const grantTypes = ['authorization_code', 'refresh_token', ...(input.clientCredentials && !input.public ? ['client_credentials'] : [])];
  return {
    client_id: clientId,
    client_name: input.name,
    redirect_uris: input.redirectUris,
    response_types: ['code'],
    grant_types: grantTypes,
    token_endpoint_auth_method: input.public ? 'none' : 'client_secret_basic',
    ...(secret ? { client_secret: secret } : {}),
    ...(input.postLogoutRedirectUris?.length ? { post_logout_redirect_uris: input.postLogoutRedirectUris } : {}),
    ...(input.backchannelLogoutUri ? { backchannel_logout_uri: input.backchannelLogoutUri, backchannel_logout_session_required: true } : {}),
    first_party: input.firstParty === true,
    mfa: input.mfa ?? 'optional',
    ...(input.mfaMethods?.length ? { mfa_methods: input.mfaMethods } : {}),
    remember_device: input.rememberDevice !== false,
    ...(input.minAcr ? { min_acr: input.minAcr } : {}),
    ...(input.smsSender ? { sms_sender: input.smsSender } : {}),
    ...(input.passwordProfile && input.passwordProfile !== DEFAULT_PROFILE_NAME ? { password_profile: input.passwordProfile } : {}),
    ...(input.mailFrom ? { mail_from: input.mailFrom } : {}),
    ...Object.fromEntries(Object.entries(input.metadata ?? {}).filter(([, value]) => value !== undefined)),
    ...(input.recoveryLabel ? { recovery_label: input.recoveryLabel } : {}),
    ...(input.recoveryMethods?.length ? { recovery_methods: input.recoveryMethods } : {}),
  };
}

export class ClientRegistry {
  constructor(
    private readonly store: Store,
    private readonly provider: Provider,
    private readonly clock: Clock,
    private readonly box: SecretBox,
  ) {}

  private async validate(metadata: Record<string, unknown>): Promise<void> {
    try {
      await this.provider.Client.validate(metadata as Parameters<Provider['Client']['validate']>[0]);
    } catch (error) {
      const e = error as { error_description?: string; message: string };
      throw new ClientValidationError(e.error_description ?? e.message);
    }
    // A profile that does not exist would silently leave the portal's patients on the default.
    const profile = profileNameOf(metadata);
    if (profile !== undefined && !(await this.store.passwordProfiles.find(profile))) {
      throw new ClientValidationError(`no password profile ${profile} (see: poortwachter password-profile list)`);
    }
  }

  /** Registers a client; returns its id and, for confidential clients, the secret (shown once). */
  async add(input: ClientInput): Promise<{ clientId: string; clientSecret?: string; metadata: Record<string, unknown> }> {
    const clientId = input.clientId ?? `${slug(input.name)}-${randomBytes(4).toString('hex')}`;
    if (await this.store.clients.find(clientId)) throw new ClientValidationError(`client ${clientId} exists already`);
    const secret = input.public ? undefined : randomBytes(32).toString('base64url');
    const metadata = metadataFromInput(input, clientId, secret);
    await this.validate(metadata);
    const now = this.clock.now();
    // Insert-if-absent: of two processes adding the same id at once, only one secret is ever valid.
    if (!(await this.store.clients.putIfAbsent({ clientId, metadata: sealClientSecret(this.box, metadata), createdAt: now, updatedAt: now }))) {
      throw new ClientValidationError(`client ${clientId} exists already`);
    }
    forgetCachedClient(this.store, clientId);
    return { clientId, clientSecret: secret, metadata };
  }

  /** Changes some properties of a client; the secret stays. */
  async update(clientId: string, changes: Record<string, unknown>): Promise<ClientRecord> {
    const existing = await this.store.clients.find(clientId);
    if (!existing) throw new ClientValidationError(`no client ${clientId}`);
    const metadata: Record<string, unknown> = { ...openClientSecret(this.box, existing.metadata), ...changes, client_id: clientId };
    for (const [key, value] of Object.entries(metadata)) if (value === undefined) delete metadata[key];
    await this.validate(metadata);
    const next = { ...existing, metadata: sealClientSecret(this.box, metadata), updatedAt: this.clock.now() };
    await this.store.clients.put(next);
    forgetCachedClient(this.store, clientId);
    return next;
  }

  /** The current secret in the clear (a rotation keeps it as the previous one); undefined for public clients. */
  async secretOf(clientId: string): Promise<string | undefined> {
    const existing = await this.store.clients.find(clientId);
    const secret = existing ? openClientSecret(this.box, existing.metadata).client_secret : undefined;
    return typeof secret === 'string' ? secret : undefined;
  }

  list(): Promise<ClientRecord[]> {
    return this.store.clients.list();
  }

  async remove(clientId: string): Promise<boolean> {
    forgetCachedClient(this.store, clientId);
    return this.store.clients.remove(clientId);
  }
}
