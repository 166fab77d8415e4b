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
import { ACR_VALUES, requiredAcr } from './assurance.ts';
import { ADMIN_PROPERTIES, POLICY_PROPERTIES, validatePolicyProperty, policyFromMetadata } from './client-policy.ts';
import { acceptPreviousSecretDuringGrace } from './secret-grace.ts';
import { registrationFeatures } from './registration.ts';
import { adminResourceIndicators } from './admin-resource.ts';
import { loginStartOfResult, proofsOfResult, recordProofsOnResume, type SessionJudge, type SessionProofs } from './session-proofs.ts';
import { claimsOfScope, findAccountClaims } from './claims.ts';
import { requestedAcrValues } from './requested-acr.ts';
import { requestedMaxAge } from './requested-max-age.ts';
import { providerSafe } from './unavailable.ts';

export type { Provider };

export interface ProviderPages {
  error(ctx: KoaContextWithOIDC, error: { error: string; error_description?: string }): void | Promise<void>;
  logoutConfirm(ctx: KoaContextWithOIDC, form: string): void | Promise<void>;
  loggedOut(ctx: KoaContextWithOIDC): void | Promise<void>;
}

export interface ProviderOptions {
  issuer: string;
  store: Store;
  /** Our clock: stored models expire by it, and a login received in a request completed now. */
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
  /** The proofs behind each session (how each was obtained), written when a login is applied. */
  sessionProofs: SessionProofs;
  /** Decides whether a session's proofs satisfy a portal; the rules live with the flows. */
  judgeSession: SessionJudge;
}

/** Claims per scope. acr/amr/auth_time sit in the openid scope: oidc-provider only puts claims in
 * the ID token that a scope names. Exported so the bench's bare baseline serves the same claims. */
export const OIDC_CLAIMS: NonNullable<Configuration['claims']> = {
  openid: [...claimsOfScope('openid')],
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
  profile: [...claimsOfScope('profile')],
  email: [...claimsOfScope('email')],
  phone: [...claimsOfScope('phone')],
};
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'phone'] as const;

/** ID tokens live an hour; `keys rotate` keeps retired keys published at least this long. */
export const ID_TOKEN_TTL_SECONDS = 3600;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** The login-prompt checks that judge a session's proofs, and the error each gives with prompt=none. */
const PROOF_CHECKS = [
  // A session from a portal with weaker rules must not satisfy a portal that requires MFA with its
  // own methods, and a remembered device must not count where the portal forbids one.
  { reason: 'mfa_required', description: 'the portal requires a second factor this session lacks', error: 'interaction_required' },
  // oidc-provider does not enforce acr_values itself: a session below the level the request or the
  // portal demands is asked for a (step-up) login.
  { reason: 'acr_too_weak', description: 'the session does not reach the requested acr', error: 'interaction_required' },
  // max_age on our clock, measured from the login that made the proofs: no proof may be older than
  // max_age at the login's start (a step-up does not make an old password recent), and the login
  // must have completed within max_age (a slow but complete login is not too old on arrival).
  { reason: 'proofs_too_old', description: 'the session\'s proofs are older than max_age', error: 'login_required' },
] as const;

function loginPolicy(sessionProofs: SessionProofs, judgeSession: SessionJudge, clock: Clock) {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  // oidc-provider's own essential-acr checks want an exact match, which never holds for a stronger
  // session and loops the patient through the login; `acr_too_weak` compares levels instead.
  login?.checks.remove('essential_acr');
  login?.checks.remove('essential_acrs');

  // One judgement per request, shared by the checks (they run in parallel).
  const verdicts = new WeakMap<object, Promise<readonly string[]>>();
  async function judge(ctx: KoaContextWithOIDC): Promise<readonly string[]> {
    const { session, client, params } = ctx.oidc;
    if (!session?.accountId || !client || !params) return [];
    const portal = policyFromMetadata(client.metadata());
    const requested = requestedAcrValues(params);
    const needed = requiredAcr(requested, portal.minAcr);
    const maxAgeSeconds = requestedMaxAge(params);
    // A portal without demands takes any session, and pays no store lookup for it.
    if (portal.mfa !== 'required' && portal.rememberDevice && !needed && maxAgeSeconds === undefined) return [];
    const judged = { accountId: session.accountId, policy: portal, requiredAcr: needed, requestedAcr: requiredAcr(requested), maxAgeSeconds };
    // Right after a login the checks run again in the same request: judge the proofs it brought,
    // as a login completed now that started when its flow did.
    const brought = proofsOfResult(ctx.oidc.result);
    if (brought) {
      const startedAt = loginStartOfResult(ctx.oidc.result);
      return judgeSession({ ...judged, proofs: brought, login: startedAt === undefined ? undefined : { startedAt, completedAt: clock.now() } });
    }
    const record = await sessionProofs.findRecord(session.uid, session.accountId);
    return judgeSession({ ...judged, proofs: record?.proofs ?? [], login: record?.login });
  }
  function verdict(ctx: KoaContextWithOIDC): Promise<readonly string[]> {
    let found = verdicts.get(ctx);
    if (!found) {
      found = judge(ctx);
      verdicts.set(ctx, found);
    }
    return found;
  }
  for (const { reason, description, error } of PROOF_CHECKS) {
    login?.checks.add(new interactionPolicy.Check(reason, description, error, async (ctx) =>
      ((await verdict(ctx)).includes(reason) ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT)));
  }
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
    // Only the methods our registry assigns. oidc-provider treats client_secret_basic and
    // client_secret_post as interchangeable for a client registered with either; with `post` not
    // offered at all, a secret in the body is no authentication and the registered method is the
    // only one that works.
    clientAuthMethods: ['client_secret_basic', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      properties: [...POLICY_PROPERTIES, ...ADMIN_PROPERTIES],
      validator(_ctx, key, value, metadata) {
        const problem = validatePolicyProperty(key, value, metadata as Record<string, unknown>);
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
      // Admin API tokens (client_credentials) for the resource `<issuer>/admin/api` only.
      resourceIndicators: adminResourceIndicators(options.issuer, options.ttl.accessToken),
      ...registrationFeatures(),
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
    findAccount: (_ctx, sub) => providerSafe(() => findAccountClaims(accounts, sub)),
    interactions: {
      policy: loginPolicy(options.sessionProofs, options.judgeSession, options.clock),
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
  acceptPreviousSecretDuringGrace(provider, options.clock);
  provider.use(recordProofsOnResume(options.sessionProofs));
  provider.on('server_error', (ctx, error) => {
    // The route pattern, not the path (it may carry an interaction uid); the request id links the rest.
    options.logger.error({ err: { message: error.message, stack: error.stack }, route: (ctx as { _matchedRoute?: unknown })._matchedRoute }, 'oidc server error');
  });
  provider.on('backchannel.error', (_ctx, error, client) => {
    options.logger.warn({ err: error.message, clientId: client.clientId }, 'back-channel logout failed');
  });
  provider.on('grant.revoked', (_ctx, grantId) => {
    options.logger.info({ grantId }, 'grant revoked');
  });
  return provider;
}
