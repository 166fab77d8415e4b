// The composition root: builds every part from the configuration, and starts and stops the
// HTTP server. main.ts, the CLI, the demo and the tests all start here, so they run the same code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import { systemClock, type Clock } from './clock.ts';
import { createLogger, type Logger } from './log.ts';
import { openStore } from './store/open.ts';
import { SecretBox } from './accounts/secret-box.ts';
import { Accounts } from './accounts/accounts.ts';
import { Passwords } from './accounts/passwords.ts';
import { Limits } from './accounts/limits.ts';
import { Audit } from './accounts/audit.ts';
import { OneTimeCodes } from './accounts/one-time-codes.ts';
import { RememberedDevices } from './accounts/remembered-devices.ts';
import { Lockout } from './accounts/lockout.ts';
import { LoginNameKeys } from './accounts/login-name-key.ts';
import { hkdfSync } from 'node:crypto';
import { Captcha } from './accounts/captcha.ts';
import { Invitations } from './accounts/invitations.ts';
import { KeyedHash } from './accounts/keyed-hash.ts';
import { createDelivery, DevOutbox } from './delivery/index.ts';
import type { Services } from './services.ts';
import { lifecyclePasswordChange } from './actions/update-password/password-change.ts';
import { ModelSecrets } from './oidc/model-secrets.ts';
import { AccountRevocation } from './oidc/account-revocation.ts';
import { createApp, type App } from './web/app.ts';
import { ensureAccountClient } from './oidc/sessions.ts';
import { ensureAdminClient } from './oidc/admin-client.ts';
import { PasswordProfiles } from './accounts/password-profiles.ts';
import { PasswordLifecycle } from './accounts/password-lifecycle.ts';
import { trackForShutdown, type ShutdownOutcome } from './http-shutdown.ts';
import { Metrics } from './metrics/metrics.ts';
import { observeStore, type StoreCallObserver } from './store/observe.ts';
import type { FlowRecord } from './store/port.ts';
import { noteFlow } from './request-context.ts';
import { hasSecondFactors } from './factors/registry.ts';

export interface BuildOptions {
  clock?: Clock;
  logger?: Logger;
}

export async function buildServices(config: Config, options: BuildOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const store = observeStore(await openStore(config.database, { onSqliteBusy: (outcome) => metrics.sqliteBusy(outcome) }), storeCallObserver(metrics));
  const box = new SecretBox(config.secretsKey);
  const outbox = config.devOutbox ? new DevOutbox() : undefined;
  const limits = new Limits(store, clock);
  // A separate key for hashing one-time codes, derived so SECRETS_KEY itself is never reused raw.
  const codePepper = Buffer.from(hkdfSync('sha256', config.secretsKey, 'poortwachter', 'one-time-code-pepper', 32));
  // Likewise for the keyed hash that names lock records by typed login name (never the name itself).
  const loginNameKey = Buffer.from(hkdfSync('sha256', config.secretsKey, 'poortwachter', 'login-name-lock-key', 32));
  // And for the recovery flow's keyed hashes of typed names and phone numbers.
  const recoveryHashKey = Buffer.from(hkdfSync('sha256', config.secretsKey, 'poortwachter', 'recovery-keyed-hash', 32));
  const { policy } = config;
  const passwords = new Passwords(store, policy.passwords, clock);
  const modelSecrets = new ModelSecrets(config.secretsKey, box);
  const audit = new Audit(store, clock, config.auditRetentionDays, (event) => metrics.audited(event));
  const services: Services = {
    config,
    store,
    clock,
    logger,
    box,
    accounts: new Accounts(store, box, clock, logger),
    passwords,
    limits,
    lockout: new Lockout(store, clock, policy.lockout, new LoginNameKeys(loginNameKey)),
    audit,
    codes: new OneTimeCodes(store, limits, clock, codePepper, policy.codes),
    devices: new RememberedDevices(store, clock, policy.rememberDevice),
    delivery: createDelivery(config, logger, outbox),
    outbox,
    passwordProfiles: new PasswordProfiles(store, clock, policy.passwords),
    // It works on the whole bundle (notices, audit, lockout), which it reads when used.
    passwordLifecycle: new PasswordLifecycle(() => services),
    invitations: new Invitations(() => services, hasSecondFactors),
    passwordChange: lifecyclePasswordChange(() => services.passwordLifecycle),
    modelSecrets,
    signIns: new AccountRevocation(store, modelSecrets),
    metrics,
    captcha: new Captcha(config.secretsKey, limits, clock, policy.recovery.captcha),
    keyedHash: new KeyedHash(recoveryHashKey),
  };
  return services;
}

/**
 * Every store call is timed for the metrics; a flow read or written names the flow (and its
 * portal) in the request log line, whichever flow kind or route loaded it.
 */
function storeCallObserver(metrics: Metrics): StoreCallObserver {
  return (part, method, seconds, outcome, args, result) => {
    metrics.storeCall(part, method, seconds, outcome);
    if (part !== 'flows' || outcome !== 'ok') return;
    const flow = (method === 'put' ? args[0] : result) as FlowRecord | undefined;
    if (flow && typeof flow.id === 'string') noteFlow(flow);
  };
}

export interface RunningServer {
  url: string;
  app: App;
  services: Services;
  /**
   * Graceful stop: stops accepting, lets requests in flight finish (at most
   * SHUTDOWN_TIMEOUT_SECONDS, then the rest are cut), then closes delivery and the store.
   */
  close(): Promise<ShutdownOutcome>;
  /** Cuts every connection now; a pending close() then finishes at once with 'forced'. */
  forceClose(): void;
  /** Requests received whose response has not finished. */
  inFlight(): number;
}

/**
 * Starts the HTTP server; `port: 0` picks a free one. With `issuerFromAddress` the issuer becomes
 * the address actually bound (tests and the bench, which cannot know the port in advance).
 */
export async function startServer(services: Services, options: { port?: number; host?: string; issuerFromAddress?: boolean; issuerHost?: string } = {}): Promise<RunningServer> {
  const host = options.host ?? services.config.host;
  const server = http.createServer();
  server.keepAliveTimeout = 65_000;
  const shutdown = trackForShutdown(server);
  services.metrics.collectProcessMetrics();
  // Until the application is built (keys loaded), every request gets a quick 503 rather than
  // waiting: load balancers see "not ready" instead of a hanging connection.
  let handle: http.RequestListener = answerStarting;
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? services.config.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // `issuerHost`: a name for the bound address (browser tests of passkeys need `localhost`:
  // WebAuthn refuses an IP address as relying party ID).
  const url = `http://${options.issuerHost ?? (host === '0.0.0.0' ? '127.0.0.1' : host)}:${address.port}`;
  if (options.issuerFromAddress) services.config.issuer = url;
  let app: App;
  try {
    // Only a serving process writes the internal account client: a CLI run with another ISSUER
    // must not rewrite a running server's redirect URIs.
    await ensureAccountClient(services.store, services.config.issuer, services.clock.now(), services.config.brand);
    await ensureAdminClient(services.store, services.config.issuer, services.clock.now());
    app = await createApp(services, { draining: shutdown.draining });
  } catch (error) {
    await shutdown.close(0);
    throw error;
  }
  handle = app.callback();
  services.store.onFatal?.((error) => {
    // Once, and clearly: from now on every write is refused until the process is restarted.
    services.logger.fatal({ reason: error.reason, err: { message: error.cause instanceof Error ? error.cause.message : String(error.cause) } },
      'the database can no longer make writes durable: refusing writes; restart the process (a supervisor does it when it exits)');
  });
  const sweep = setInterval(() => {
    services.store.removeExpired(services.clock.now()).catch((error: Error) => services.logger.warn({ err: error.message }, 'cleanup failed'));
    services.audit.applyRetention().catch((error: Error) => services.logger.warn({ err: error.message }, 'audit retention failed'));
  }, 60_000);
  sweep.unref();
  // `keys rotate` may run anywhere: every serving process follows the stored key set (live-keys.ts).
  const stopKeyRefresh = app.signingKeys.poll(services.config.keysRefreshSeconds);
  let closed: Promise<ShutdownOutcome> | undefined;
  return {
    url,
    app,
    services,
    close() {
      closed ??= (async () => {
        clearInterval(sweep);
        stopKeyRefresh();
        const outcome = await shutdown.close(services.config.shutdownTimeoutSeconds * 1000);
        await services.delivery.close();
        await services.store.close();
        return outcome;
      })();
      return closed;
    },
    forceClose: () => shutdown.force(),
    inFlight: () => shutdown.inFlight(),
  };
}

function answerStarting(req: http.IncomingMessage, res: http.ServerResponse): void {
  const live = req.url === '/healthz';
  res.writeHead(live ? 200 : 503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...(live ? {} : { 'Retry-After': '1' }) });
  res.end(JSON.stringify(live ? { status: 'ok' } : { status: 'starting', checks: { keys: { ok: false } } }));
}
