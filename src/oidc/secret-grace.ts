// Secret rotation with a grace period. After an admin rotates a portal's secret, the old one keeps
// working at the token endpoint (and wherever oidc-provider authenticates the client) until
// `previous_client_secret_expires_at`, so the portal can deploy its new secret without an outage;
// after that only the new one works. ADMIN_SECRET_GRACE_SECONDS (default 24 h) sets the period.
//
// oidc-provider compares a client secret in one place, `Client#compareClientSecret` (constant
// time); it has no hook for a second secret, so this wraps that method of this provider's own
// Client class. The comparison against the old secret is constant-time too, and reads our clock.
import { timingSafeEqual, createHash } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { PREVIOUS_SECRET, PREVIOUS_SECRET_EXPIRES_AT } from './client-secrets.ts';

type Compare = (this: Record<string, unknown>, actual: string) => boolean;

function sameSecret(a: string, b: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and no length leak.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function acceptPreviousSecretDuringGrace(provider: Provider, clock: Clock): void {
  const prototype = provider.Client.prototype as unknown as { compareClientSecret: Compare };
  const compare = prototype.compareClientSecret;
  if (typeof compare !== 'function') throw new Error('oidc-provider no longer has Client#compareClientSecret: secret rotation grace cannot work');
  prototype.compareClientSecret = function compareWithGrace(actual) {
    if (compare.call(this, actual)) return true;
    const previous = this[PREVIOUS_SECRET] ?? this.previousClientSecret;
    const until = this[PREVIOUS_SECRET_EXPIRES_AT] ?? this.previousClientSecretExpiresAt;
    if (typeof previous !== 'string' || typeof until !== 'number' || typeof actual !== 'string') return false;
    return clock.now() < until * 1000 && sameSecret(previous, actual);
  };
}
