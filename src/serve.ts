// Runs Poortwachter as `npm start` does (through src/main.ts): read config, open the store, build
// the app, listen, and stop cleanly on SIGTERM/SIGINT. Every way of failing to start ends in one
// line on stderr that says what to do, never a stack trace.
import { loadConfig, ConfigError, type Config } from './config.ts';
import { buildServices, startServer, type RunningServer } from './bootstrap.ts';
import { ClientRegistry } from './oidc/client-registry.ts';
import { seedDemo, describeDemo, DEMO_CLIENT_ID, DEMO_PATIENT } from './admin/demo-seed.ts';
import { StoreOpenError, storeUnavailableCause } from './store/errors.ts';
import type { Services } from './services.ts';

/** Exit codes: 2 the configuration is wrong, 1 anything else that stopped us (or a forced stop). */
const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;

// In a terminal, Ctrl-C reaches npm and the server alike, and npm forwards it to the server once
// more: a repeat this soon is the same request, not the operator's "stop now".
const REPEAT_SIGNAL_GRACE_MS = 1000;
// If closing the store or the mailer hangs after the deadline, exit anyway.
const HANG_MARGIN_MS = 5000;

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, EXIT_CONFIG);
    throw error;
  }
}

async function openServices(config: Config): Promise<Services> {
  try {
    return await buildServices(config);
  } catch (error) {
    if (error instanceof StoreOpenError) fail(`Poortwachter cannot start: ${error.message}`, EXIT_FAILURE);
    throw error;
  }
}

async function listen(services: Services): Promise<RunningServer> {
  const { config } = services;
  try {
    return await startServer(services);
  } catch (error) {
    await services.store.close().catch(() => undefined);
    const { code, syscall } = error as NodeJS.ErrnoException;
    if (syscall === 'listen') fail(`Cannot listen on ${config.host}:${config.port}: ${code === 'EADDRINUSE' ? 'the port is in use (set PORT)' : (error as Error).message}`, EXIT_FAILURE);
    const unavailable = storeUnavailableCause(error);
    if (unavailable) fail(`Poortwachter cannot start: the database is unavailable (${unavailable.reason}); start again once it is back`, EXIT_FAILURE);
    throw error;
  }
}

/**
 * First SIGTERM/SIGINT: graceful stop within the deadline. A later one: cut everything now. A store
 * that failed for good (an fsync error: writes refused until a restart) stops the process the same
 * graceful way, with exit 1, so that its supervisor (systemd, Docker, Kubernetes) restarts it.
 */
function stopOnSignals(server: RunningServer): void {
  const { logger, config } = server.services;
  let firstAt: number | undefined;
  let storeFailed = false;
  const stop = (why: Record<string, unknown>) => {
    firstAt = Date.now();
    logger.info({ ...why, inFlight: server.inFlight(), deadlineSeconds: config.shutdownTimeoutSeconds }, 'stopping: finishing requests in flight');
    setTimeout(() => fail('Poortwachter did not stop in time; exiting', EXIT_FAILURE), config.shutdownTimeoutSeconds * 1000 + HANG_MARGIN_MS);
    server.close().then(
      (outcome) => {
        if (outcome === 'drained') logger.info({ ms: Date.now() - firstAt! }, 'stopped');
        else logger.warn({ ms: Date.now() - firstAt! }, 'stopped: connections still busy were cut');
        process.exit(outcome === 'drained' && !storeFailed ? 0 : EXIT_FAILURE);
      },
      (error: Error) => {
        logger.error({ err: { message: error.message, stack: error.stack } }, 'stopping failed');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === undefined) {
      stop({ signal });
      return;
    }
    if (Date.now() - firstAt < REPEAT_SIGNAL_GRACE_MS) return;
    logger.warn({ signal, inFlight: server.inFlight() }, 'second signal: cutting every connection now');
    server.forceClose();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  server.services.store.onFatal?.(() => {
    storeFailed = true;
    if (firstAt === undefined) stop({ cause: 'the store failed' });
  });
}

export async function serve(): Promise<void> {
  const config = readConfig();
  const services = await openServices(config);
  const server = await listen(services);
  stopOnSignals(server);
  const demo = await seedDemo(services, new ClientRegistry(services.store, server.app.provider, services.clock, services.box)).catch(async (error: unknown) => {
    // Several processes starting at once on an empty database all try to create the demo data;
    // those that lose the race serve without printing it.
    const createdByAnother = (await services.store.clients.find(DEMO_CLIENT_ID)) ?? (await services.accounts.findByLogin(DEMO_PATIENT.username));
    if (!createdByAnother) throw error;
    services.logger.warn('demo data was created by another process starting at the same time');
    return undefined;
  });
  if (demo) process.stdout.write(describeDemo(config.issuer, demo));
  services.logger.info({ issuer: config.issuer, listen: server.url, store: services.store.kind, delivery: services.delivery.transports }, 'Poortwachter started');
  if (config.secretsKeyIsEphemeralDevKey) services.logger.warn('SECRETS_KEY not set: using the development key (never in production)');
}
