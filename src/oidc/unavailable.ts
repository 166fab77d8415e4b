// oidc-provider catches what its actions throw and answers `server_error` (500) for anything that
// is not one of its own errors. A store that is unavailable is not a server error: the request
// may succeed in a moment. So what reaches oidc-provider from the store (through the adapter and
// findAccount) becomes its `temporarily_unavailable` with status 503 — RFC 6749 §4.1.2.1: the
// authorization endpoint redirects it to the portal, the token endpoint answers it as JSON, and our
// pages render it as "tijdelijk niet beschikbaar" (web/ adds Retry-After to every 503).
import { errors } from 'oidc-provider';
import { storeUnavailableCause } from '../store/errors.ts';

export function asProviderError(error: unknown): unknown {
  if (error instanceof errors.OIDCProviderError) return error;
  const unavailable = storeUnavailableCause(error);
  if (!unavailable) return error;
  const translated = new errors.TemporarilyUnavailable('the service is temporarily unavailable, try again shortly', { cause: unavailable });
  translated.status = 503;
  translated.statusCode = 503;
  return translated;
}

/** Runs `action`, translating an unavailable store into oidc-provider's error. */
export async function providerSafe<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw asProviderError(error);
  }
}
