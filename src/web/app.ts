// Assembles the HTTP application: oidc-provider is the Koa app; our middleware (security
// headers, language, error pages) and routes run in front of its own routes.
import serve from 'koa-static';
import { fileURLToPath } from 'node:url';
import type { Services } from '../services.ts';
import { createProvider, type Provider } from '../oidc/provider.ts';
import { toProviderJwks } from '../oidc/keys.ts';
import { LiveSigningKeys } from '../oidc/live-keys.ts';
import { Interactions } from '../oidc/interactions.ts';
import { prepareSealedStore } from '../sealed-store.ts';
import { LoginKind } from '../flows/login/login-kind.ts';
import { loginRoutes } from '../flows/login/login-routes.ts';
import { FlowRunner } from '../flows/kit/runner.ts';
import { securityHeaders } from './security-headers.ts';
import { language } from './language.ts';
import { errorPages } from './errors.ts';
import { durableResponses } from './durable-responses.ts';
import { providerPages } from './provider-pages.ts';
import { devOutboxRoutes } from './dev-outbox-routes.ts';
import { vendorScripts } from './vendor-scripts.ts';
import { isTrustedProxy, onlyTrustedProxies } from './proxy-peers.ts';
import { noteRouteAndClient, withRequestLog, type RequestListener } from './request-log.ts';
import { metricsRoute } from './metrics-route.ts';
import { oidcClientId } from '../oidc/request-client.ts';
import { parseProxyAddresses } from '../config.ts';
import { RecoveryKind } from '../flows/recovery/recovery-kind.ts';
import { recoveryRoutes } from '../flows/recovery/recovery-routes.ts';
import { ActivationKind } from '../flows/activation/activation-kind.ts';
import { activationRoutes } from '../flows/activation/activation-routes.ts';
import { invitationsForAdmin } from '../admin/invitations-adapter.ts';
import { settingsRoutes } from '../flows/settings/settings-routes.ts';
import { AccountSessions } from '../oidc/account-sessions.ts';
import { Sessions } from '../oidc/sessions.ts';
import { SessionProofs } from '../oidc/session-proofs.ts';
import { sessionJudge } from '../flows/session-judge.ts';
import { healthRoutes } from './health-routes.ts';
import { createHealthProbe } from '../store/health-probe.ts';
import { deploymentBrand } from '../brand/brand.ts';
import { Logos } from '../brand/logos.ts';
import { brandRoutes } from './brand-routes.ts';
import { setDeploymentBrand } from './render.ts';
import { ClientRegistry } from '../oidc/client-registry.ts';
import { adminTokenVerifier } from '../oidc/admin-resource.ts';
import { providerRegistrationTokens } from '../oidc/registration.ts';
import { adminDeps, createAdminOperations } from '../admin/operations/index.ts';
import { adminApi } from '../admin/api/router.ts';
import { adminConsole } from '../admin/console/console-routes.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

/** Runs `middleware` only for paths starting with `prefix`. */
function under<C extends { path: string }>(prefix: string, middleware: (ctx: C, next: () => Promise<unknown>) => unknown) {
  return (ctx: C, next: () => Promise<unknown>) => (ctx.path.startsWith(prefix) ? middleware(ctx, next) : next());
}

export interface App {
  provider: Provider;
  /** The admin operations this process serves (the API; the console builds on them). */
  operations: ReturnType<typeof createAdminOperations>;
  /** The provider's signing keys, reloaded from the store when `keys rotate` changed them (startServer polls). */
  signingKeys: LiveSigningKeys;
  /** The request listener: oidc-provider's Koa app inside the request log (request-log.ts). */
  callback(): RequestListener;
}

export interface AppOptions {
  /** True once the server is shutting down: /readyz then reports not ready. */
  draining?: () => boolean;
}

export async function createApp(services: Services, options: AppOptions = {}): Promise<App> {
  const { config, store, clock } = services;
  const https = config.issuer.startsWith('https://');
  const sessionProofs = new SessionProofs(store, clock, config.ttl.session);
  const { modelSecrets } = services;
  // Before the first request: from here on phone numbers and TOTP secrets open bound only.
  const { signingKeys, cookieKeys } = await prepareSealedStore(services);
  const provider = createProvider({
    issuer: config.issuer,
    store,
    clock,
    box: services.box,
    modelSecrets,
    accounts: services.accounts,
    jwks: toProviderJwks(signingKeys),
    cookieKeys,
    pages: providerPages,
    ttl: { session: config.ttl.session, accessToken: config.ttl.accessToken, refreshToken: config.ttl.refreshToken, interaction: Math.min(3600, config.policy.flows.ttlSeconds) },
    allowLoopbackFetch: config.env !== 'production',
    logger: services.logger,
    sessionProofs,
    judgeSession: sessionJudge(services),
  });
  const liveKeys = new LiveSigningKeys(provider, signingKeys, { store, box: services.box, clock, logger: services.logger });
  // Only behind a TLS-terminating proxy that sets X-Forwarded-*: otherwise clients could spoof them.
  provider.proxy = config.trustProxy;
  // The client writes the leftmost X-Forwarded-For entries itself: only the ones our own proxies
  // appended count, or the per-IP limits and the audit trail would believe any claimed address.
  provider.maxIpsCount = config.trustProxyHops;
  // First of all our middleware: nothing may read X-Forwarded-* before untrusted peers lose them.
  const proxies = config.trustProxyAddresses.length ? parseProxyAddresses(config.trustProxyAddresses).list : undefined;
  if (config.trustProxy && proxies) provider.use(onlyTrustedProxies(proxies));
  provider.use(noteRouteAndClient(oidcClientId));

  provider.use(securityHeaders({ https }));
  provider.use(language());
  // Before anything that writes: the response goes out only once everything the request wrote is
  // durable, and is replaced by a 503 when that fails (after language, to render that page).
  provider.use(durableResponses(store, services.logger));
  const brand = deploymentBrand(config.brand);
  provider.use((ctx, next) => {
    setDeploymentBrand(ctx, brand);
    return next();
  });
  provider.use(errorPages(services.logger));

  // Our routes only see their own paths: the token, introspection and JWKS endpoints should not pay
  // for router matching or a file-system stat on every request.
  const statics = serve(PUBLIC_DIR, { maxage: 3600_000, index: false });
  provider.use(under('/static/vendor/', vendorScripts()));
  provider.use(under('/static/', statics));
  provider.use(under('/brand/', brandRoutes(new Logos(store))));
  const interactions = new Interactions(provider, { session: config.ttl.session, refreshToken: config.ttl.refreshToken });
  const loginKind = new LoginKind(services, interactions, sessionProofs);
  const login = loginRoutes(loginKind, new FlowRunner(services, loginKind, loginKind.flows));
  provider.use(under('/interaction/', login.routes()));
  provider.use(under('/interaction/', login.allowedMethods()));
  const recoveryKind = new RecoveryKind(services, interactions);
  const recovery = recoveryRoutes(recoveryKind, new FlowRunner(services, recoveryKind, recoveryKind.flows));
  provider.use(under('/recovery', recovery.routes()));
  provider.use(under('/recovery', recovery.allowedMethods()));
  const activationKind = new ActivationKind(services, interactions);
  const activation = activationRoutes(activationKind, new FlowRunner(services, activationKind, activationKind.flows));
  provider.use(under('/activat', activation.routes()));
  provider.use(under('/activat', activation.allowedMethods()));
  const accountSessions = new AccountSessions(provider, store, modelSecrets, clock, services.logger);
  // A password change tells the account's portals by back-channel logout (oidc/account-revocation.ts).
  services.signIns.tellPortalsThrough(accountSessions);
  const sessions = new Sessions(provider);
  provider.use(under('/account', settingsRoutes(services, sessions, sessionProofs, accountSessions).routes()));
  // The admin REST API: the same admin operations as the CLI and the console (admin/operations).
  const registry = new ClientRegistry(store, provider, clock, services.box);
  const operations = createAdminOperations(adminDeps(services, async () => registry, { registrationTokens: providerRegistrationTokens(provider, clock), invitations: invitationsForAdmin(services.invitations) }));
  provider.use(under('/admin/api', adminApi({ services, operations, verifyToken: adminTokenVerifier(provider, config.issuer) })));
  // The /admin console: the same operations instance, server-rendered pages (admin/console).
  provider.use(under('/admin', adminConsole({ services, operations, sessions, sessionProofs }).routes()));
  const probeStore = createHealthProbe(store, () => clock.now(), (error) => {
    services.logger.error({ err: { message: (error as Error).message, stack: (error as Error).stack } }, 'readiness probe failed');
  });
  const health = healthRoutes({
    probeStore,
    keysLoaded: () => liveKeys.current().some((key) => key.stage === 'current'),
    draining: options.draining ?? (() => false),
  }).routes();
  provider.use(under('/healthz', health));
  provider.use(under('/readyz', health));
  provider.use(under('/metrics', metricsRoute(services.metrics, config).routes()));
  if (config.devOutbox && services.outbox) provider.use(under('/dev/', devOutboxRoutes(services.outbox, () => config.issuer).routes()));

  const requestLog = {
    logger: services.logger,
    metrics: services.metrics,
    // Asks the socket for its peer (a system call) only when TRUST_PROXY is on.
    trustedPeer: (req: { socket: { remoteAddress?: string } }) => config.trustProxy && isTrustedProxy(true, proxies, req.socket.remoteAddress),
  };
  return { provider, operations, signingKeys: liveKeys, callback: () => withRequestLog(provider.callback(), requestLog) };
}
