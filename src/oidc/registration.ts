// Dynamic client registration (RFC 7591) and its management (RFC 7592), for portals that register
// themselves with an initial access token an operator minted (`poortwachter dcr token`, or the
// admin API). A self-registered portal gets standard metadata only: its sign-in policy, brand and
// the admin switches come only from the admin operations, so a registration (or a later update
// through the registration access token) carrying one of those is refused with
// `invalid_client_metadata` — unless an update merely repeats the value an admin set, which RFC
// 7592 clients do (they send back the whole record they read). Admin API scopes are refused too:
// a machine that could register itself must never give itself admin powers.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type Provider from 'oidc-provider';
import type { Clock } from '../clock.ts';
import { canonicalJson } from '../store/json.ts';
import { ADMIN_PROPERTIES, POLICY_PROPERTIES } from './client-policy.ts';

/** The policy every initial access token we mint carries (and its registration access tokens inherit). */
export const SELF_REGISTRATION_POLICY = 'self-registration';

const ADMIN_ONLY: readonly string[] = [...POLICY_PROPERTIES, ...ADMIN_PROPERTIES, 'policy_uri'];

function sameAsStored(ctx: KoaContextWithOIDC, key: string, value: unknown): boolean {
  const stored = ctx.oidc.client?.metadata()[key];
  return stored !== undefined && canonicalJson(stored) === canonicalJson(value);
}

async function selfRegistrationPolicy(ctx: KoaContextWithOIDC, properties: Record<string, unknown>): Promise<void> {
  for (const key of ADMIN_ONLY) {
    if (properties[key] !== undefined && !sameAsStored(ctx, key, properties[key])) {
      throw new errors.InvalidClientMetadata(`${key} is set by an administrator (admin API or console), not by registration`);
    }
  }
  const scope = typeof properties.scope === 'string' ? properties.scope.split(' ') : [];
  if (scope.some((value) => value.startsWith('admin:'))) throw new errors.InvalidClientMetadata('admin API scopes are never granted by registration');
}

export function registrationFeatures(): Pick<NonNullable<Configuration['features']>, 'registration' | 'registrationManagement'> {
  return {
    registration: {
      enabled: true,
      initialAccessToken: true,
      policies: { [SELF_REGISTRATION_POLICY]: selfRegistrationPolicy },
    },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
  };
}

/** Minting initial access tokens: each carries the self-registration policy and may register one portal or more until it expires. */
export function providerRegistrationTokens(provider: Provider, clock: Clock) {
  return {
    async mint(expiresInSeconds: number): Promise<{ token: string; expiresAt: number }> {
      const token = await new provider.InitialAccessToken({ expiresIn: expiresInSeconds, policies: [SELF_REGISTRATION_POLICY] }).save();
      return { token, expiresAt: clock.now() + expiresInSeconds * 1000 };
    },
  };
}
