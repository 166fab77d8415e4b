// The portal oidc-provider identified while answering a request (authorization, token, userinfo,
// ...), for the request log. Only a client it loaded from the registry is named: a client_id that
// a request merely claims never reaches the log.
import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';

/** oidc-provider's routes that never load a client (asking would build its request context for nothing). */
const WITHOUT_CLIENT = new Set(['jwks', 'discovery']);

export function oidcClientId(ctx: Context): string | undefined {
  if (!('oidc' in ctx) || WITHOUT_CLIENT.has((ctx as { _matchedRouteName?: string })._matchedRouteName ?? '')) return undefined;
  try {
    return (ctx as unknown as KoaContextWithOIDC).oidc.client?.clientId;
  } catch {
    return undefined;
  }
}
