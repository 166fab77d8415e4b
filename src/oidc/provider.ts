// Builds the oidc-provider instance. This folder is the only door to oidc-provider: the rest of
// the code talks to the `OidcDoor` returned here, never to oidc-provider itself.
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Store } from '../store/port.ts';
import type { Accounts } from '../accounts/accounts.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../clock.ts';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { ModelSecrets } from './model-secrets.ts';
import { adapterFactory } from './adapter.ts';
import { grantLifetime, refreshTokenLifetime, renewGrant, type Lifetimes } from './lifetimes.ts';
import { ACR_VALUES, acrRank, requiredAcr } from './assurance.ts';
import { POLICY_PROPERTIES, validatePolicyProperty, policyFromMetadata, sessionMeetsMfaPolicy } from './client-policy.ts';
import { findAccountClaims } from './claims.ts';
import { requestedAcrValues } from './requested-acr.ts';

export type { Provider };

export interface ProviderPages {
  error(ctx: KoaContextWithOIDC, error: { error: string; error_description?: string }): void | Promise<void>;
  logoutConfirm(ctx: KoaContextWithOIDC, form: string): void | Promise<void>;
  loggedOut(ctx: KoaContextWithOIDC): void | Promise<void>;
}

export interface ProviderOptions {
  issuer: string;
  store: Store;
  /** Expiry of stored models follows this clock (tests move it instead of sleeping). */
  clock: Clock;
  /** Seals client secrets and stored models (see client-secrets.ts, model-secrets.ts). */
  box: SecretBox;
  modelSecrets: ModelSecrets;
  accounts: Accounts;
  jwks: { keys: Record<string, unknown>[] };
  cookieKeys: string[];
  pages: ProviderPages;
  ttl: { session: number; accessToken: number; refreshToken: number; interaction: number };
  /** Development and tests only: let back-channel logout reach portals on loopback. */
  allowLoopbackFetch: boolean;
  logger: Logger;
}

/** Claims per scope. acr/amr/auth_time sit in the openid scope: oidc-provider only puts claims in
 * the ID token that a scope names. Exported so the bench's bare baseline serves the same claims. */
export const OIDC_CLAIMS: NonNullable<Configuration['claims']> = {
  openid: ['sub', 'acr', 'amr', 'auth_time'],
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  profile: ['name', 'given_name', 'family_name', 'locale', 'preferred_username'],
  email: ['email', 'email_verified'],
  phone: ['phone_number', 'phone_number_verified'],
};
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'phone'] as const;

/** ID tokens live an hour; `keys rotate` keeps retired keys published at least this long. */
export const ID_TOKEN_TTL_SECONDS = 3600;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

function acrPolicy() {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  // oidc-provider's own essential-acr checks want an exact match, which never holds for a stronger
  // session and loops the patient through the login; `acr_too_weak` below compares levels instead.
  login?.checks.remove('essential_acr');
  login?.checks.remove('essential_acrs');
  // A session from a portal with weaker rules must not satisfy a portal that requires MFA (with its
  // own methods): ask for a step-up login, or `interaction_required` with prompt=none.
  login?.checks.add(
    new interactionPolicy.Check('mfa_required', 'the portal requires a second factor this session lacks', 'interaction_required', (ctx) => {
      const { session, client } = ctx.oidc;
      if (!session?.accountId || !client) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return sessionMeetsMfaPolicy(policyFromMetadata(client.metadata()), session.amr)
        ? interactionPolicy.Check.NO_NEED_TO_PROMPT
        : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  // oidc-provider does not enforce acr_values itself: ask for a (step-up) login whenever the
  // session's level is below what the request or the portal demands. With prompt=none this
  // becomes `interaction_required`.
  login?.checks.add(
    new interactionPolicy.Check('acr_too_weak', 'the session does not reach the requested acr', 'interaction_required', (ctx) => {
      const { session, client, params } = ctx.oidc;
      if (!session?.accountId || !client || !params) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const needed = requiredAcr(requestedAcrValues(params), policyFromMetadata(client.metadata()).minAcr);
      if (needed && acrRank(session.acr) < acrRank(needed)) return interactionPolicy.Check.REQUEST_PROMPT;
      return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

export function createProvider(options: ProviderOptions): Provider {
  const { store, accounts, pages } = options;
  const lifetimes: Lifetimes = { session: options.ttl.session, refreshToken: options.ttl.refreshToken };
  const configuration: Configuration = {
    adapter: adapterFactory(store, options.clock, options.box, options.modelSecrets),
    jwks: options.jwks as Configuration['jwks'],
    cookies: {
      keys: options.cookieKeys,
      // `secure` is left to the request: Secure over HTTPS, which behind a TLS-terminating proxy
      // Koa only sees when TRUST_PROXY is set (config requires that in production).
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    acrValues: [...ACR_VALUES],
    claims: OIDC_CLAIMS,
    scopes: [...OIDC_SCOPES],
    responseTypes: ['code'],
    pkce: {
      // Public clients must use PKCE; confidential ones may. Only S256 exists in v9.
      required: (_ctx, client) => client.clientAuthMethod === 'none',
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      properties: [...POLICY_PROPERTIES],
      validator(_ctx, key, value) {
        const problem = validatePolicyProperty(key, value);
        if (problem) throw new errors.InvalidClientMetadata(problem);
      },
    },
    features: {
      devInteractions: { enabled: false },
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: true },
      // Only a confidential client may introspect, and only tokens issued to itself: a portal must
      // not learn about another portal's tokens.
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => client.clientAuthMethod !== 'none' && token.clientId === client.clientId,
      },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => pages.logoutConfirm(ctx, form),
        postLogoutSuccessSource: (ctx) => pages.loggedOut(ctx),
      },
    },
    // Portals with the refresh_token grant get refresh tokens without the offline_access dance;
    // without offline_access they end with the session (lifetimes.ts).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // Every refresh rotates; reusing a rotated token revokes the whole grant (oidc-provider).
    rotateRefreshToken: true,
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const { session, client, params } = oidc;
      if (!session || !client || !params) return undefined;
      const grantId = oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) {
        const grant = await oidc.provider.Grant.find(grantId);
        if (grant) {
          // Signing in again at this portal keeps its grant going (see lifetimes.ts).
          if (renewGrant(grant, lifetimes)) await grant.save();
          return grant;
        }
      }
      // First-party portals are ours to trust: grant what they ask for without a consent screen.
      if (policyFromMetadata(client.metadata()).firstParty && session.accountId) {
        const grant = new oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
        grant.addOIDCScope(String(params.scope ?? 'openid'));
        const claims = oidc.requestParamClaims ? [...oidc.requestParamClaims] : [];
        if (claims.length) grant.addOIDCClaims(claims);
        await grant.save();
        return grant;
      }
      return undefined;
    },
    findAccount: (_ctx, sub) => findAccountClaims(accounts, sub),
    interactions: {
      policy: acrPolicy(),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    ttl: {
      AccessToken: options.ttl.accessToken,
      AuthorizationCode: 60,
      ClientCredentials: options.ttl.accessToken,
      IdToken: ID_TOKEN_TTL_SECONDS,
      Interaction: options.ttl.interaction,
      Session: options.ttl.session,
      Grant: (_ctx, grant) => grantLifetime(grant, lifetimes),
      RefreshToken: (_ctx, token) => refreshTokenLifetime(token, lifetimes),
    },
    renderError: (ctx, out) => pages.error(ctx, out),
    // oidc-provider refuses outgoing requests to special-use addresses (SSRF protection). The
    // demo portal and the tests listen on loopback, so outside production loopback is allowed.
    fetch(url, init) {
      const request = { ...init } as RequestInit & { dispatcher?: unknown };
      if (options.allowLoopbackFetch && LOOPBACK.test(new URL(url instanceof Request ? url.url : url).hostname)) delete request.dispatcher;
      return globalThis.fetch(url, request);
    },
    conformIdTokenClaims: true,
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'], userinfoSigningAlgValues: ['RS256', 'ES256'] },
  };

  const provider = new Provider(options.issuer, configuration);
  provider.on('server_error', (ctx, error) => {
    options.logger.error({ err: { message: error.message, stack: error.stack }, path: ctx.path }, 'oidc server error');
  });
  provider.on('backchannel.error', (_ctx, error, client) => {
    options.logger.warn({ err: error.message, clientId: client.clientId }, 'back-channel logout failed');
  });
  provider.on('grant.revoked', (_ctx, grantId) => {
    options.logger.info({ grantId }, 'grant revoked');
  });
  return provider;
}
