// The admin API as an OAuth resource server (RFC 8707 resource indicator `<issuer>/admin/api`):
// a service client (`client add --service --scopes ...`) gets an access token for it with the
// client_credentials grant, holding at most the admin scopes it was registered with (`admin_scopes`); the API
// checks the token here, in the process, as introspection would: our own stored (opaque) token,
// issued to a client that still exists and is not disabled, for this audience, not expired. The
// console's session cookie is no bearer: only a token from the token endpoint is.
import { errors, type Configuration } from 'oidc-provider';
import type Provider from 'oidc-provider';

export const ADMIN_API_SCOPES = ['admin:clients', 'admin:accounts', 'admin:audit'] as const;

export const adminApiResource = (issuer: string) => `${issuer.replace(/\/$/, '')}/admin/api`;

/** The admin scopes a service client was registered with (`admin_scopes`, set only by operators). */
function adminScopesOf(client: object): string[] {
  const value = (client as Record<string, unknown>).admin_scopes ?? (client as Record<string, unknown>).adminScopes;
  const registered = new Set(Array.isArray(value) ? value : []);
  return ADMIN_API_SCOPES.filter((scope) => registered.has(scope));
}

export function adminResourceIndicators(issuer: string, accessTokenTtl: number): NonNullable<Configuration['features']>['resourceIndicators'] {
  const resource = adminApiResource(issuer);
  return {
    enabled: true,
    // A service client asking for a token without naming a resource gets one for the admin API.
    defaultResource: (ctx, client, oneOf) => {
      if (oneOf) return oneOf;
      return ctx.oidc.route === 'token' && adminScopesOf(client).length ? resource : undefined;
    },
    getResourceServerInfo: (_ctx, indicator, client) => {
      const scopes = adminScopesOf(client);
      if (indicator !== resource || !scopes.length) throw new errors.InvalidTarget();
      return { scope: scopes.join(' '), audience: resource, accessTokenFormat: 'opaque', accessTokenTTL: accessTokenTtl };
    },
    useGrantedResource: () => false,
  };
}

export interface AdminTokenHolder {
  clientId: string;
  scopes: string[];
}

/** The client and scopes behind a bearer token for the admin API, or undefined for anything else. */
export function adminTokenVerifier(provider: Provider, issuer: string) {
  const resource = adminApiResource(issuer);
  return async (token: string): Promise<AdminTokenHolder | undefined> => {
    if (!/^[A-Za-z0-9_-]{20,200}$/.test(token)) return undefined;
    const found = await provider.ClientCredentials.find(token);
    if (!found || found.isExpired) return undefined;
    const audience: unknown = found.aud;
    if (audience !== resource && !(Array.isArray(audience) && audience.includes(resource))) return undefined;
    // Removed or disabled since (the adapter hides disabled clients): the token ends with it.
    const client = found.clientId ? await provider.Client.find(found.clientId) : undefined;
    if (!client) return undefined;
    const allowed = new Set(adminScopesOf(client));
    const scopes = (found.scope ?? '').split(' ').filter((scope) => allowed.has(scope));
    return { clientId: client.clientId, scopes };
  };
}
