// Assembles the HTTP application: oidc-provider is the Koa app; our middleware (security
// headers, language, error pages) and routes run in front of its own routes.
import serve from 'koa-static';
import Router from '@koa/router';
import { fileURLToPath } from 'node:url';
import type Provider from 'oidc-provider';
import type { Services } from '../services.ts';
import { createProvider } from '../oidc/provider.ts';
import { loadCookieKeys, loadSigningKeys, toProviderJwks } from '../oidc/keys.ts';
import { Interactions } from '../oidc/interactions.ts';
import { LoginFlowEngine } from '../flows/login/login-flow.ts';
import { loginRoutes } from '../flows/login/login-routes.ts';
import { securityHeaders } from './security-headers.ts';
import { language } from './language.ts';
import { errorPages } from './errors.ts';
import { providerPages } from './provider-pages.ts';
import { devOutboxRoutes } from './dev-outbox-routes.ts';
import { settingsRoutes } from '../flows/settings/settings-routes.ts';
import { Sessions } from '../oidc/sessions.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

export interface App {
  provider: Provider;
  callback(): ReturnType<Provider['callback']>;
}

export async function createApp(services: Services): Promise<App> {
  const { config, store, clock } = services;
  const https = config.issuer.startsWith('https://');
  const provider = createProvider({
    issuer: config.issuer,
    store,
    accounts: services.accounts,
    jwks: toProviderJwks(await loadSigningKeys(store, clock.now())),
    cookieKeys: await loadCookieKeys(store),
    pages: providerPages,
    ttl: { session: config.ttl.session, accessToken: config.ttl.accessToken, refreshToken: config.ttl.refreshToken, interaction: Math.min(3600, config.ttl.flow) },
    secureCookies: https,
    allowLoopbackFetch: config.env !== 'production',
    logger: services.logger,
  });
  // Only behind a TLS-terminating proxy that sets X-Forwarded-*: otherwise clients could spoof them.
  provider.proxy = config.trustProxy;

  provider.use(securityHeaders({ https }));
  provider.use(language({ secureCookies: https }));
  // Only /static/ touches the file system: a stat per JSON request would cost every token call.
  const statics = serve(PUBLIC_DIR, { maxage: 3600_000, index: false });
  provider.use((ctx, next) => (ctx.path.startsWith('/static/') ? statics(ctx, next) : next()));
  provider.use(errorPages(services.logger));

  const engine = new LoginFlowEngine(services, new Interactions(provider));
  const routes = loginRoutes(engine);
  provider.use(routes.routes());
  provider.use(routes.allowedMethods());

  provider.use(settingsRoutes(services, new Sessions(provider)).routes());

  const misc = new Router();
  misc.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  provider.use(misc.routes());
  if (config.devOutbox && services.outbox) provider.use(devOutboxRoutes(services.outbox).routes());

  return { provider, callback: () => provider.callback() };
}
