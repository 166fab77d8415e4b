// Starts Poortwachter: read config, open the store, build the app, listen, stop cleanly.
import { loadConfig, ConfigError } from './config.ts';
import { buildServices, startServer } from './bootstrap.ts';
import { ClientRegistry } from './oidc/client-registry.ts';
import { seedDemo, describeDemo } from './admin/demo-seed.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const services = await buildServices(config);
  let server;
  try {
    server = await startServer(services);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    process.stderr.write(`Cannot listen on ${config.host}:${config.port}: ${code === 'EADDRINUSE' ? 'the port is in use (set PORT)' : (error as Error).message}\n`);
    await services.store.close();
    process.exit(1);
  }
  const demo = await seedDemo(services, new ClientRegistry(services.store, server.app.provider, services.clock, services.box));
  if (demo) process.stdout.write(describeDemo(config.issuer, demo));
  services.logger.info({ issuer: config.issuer, listen: server.url, store: services.store.kind, delivery: services.delivery.transports }, 'Poortwachter started');
  if (config.secretsKeyIsEphemeralDevKey) services.logger.warn('SECRETS_KEY not set: using the development key (never in production)');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    services.logger.info({ signal }, 'stopping');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
