// `npm run demo`: Poortwachter and an example portal side by side, ready to sign in.
//   identity provider  ISSUER / PORT        (default http://localhost:3000)
//   example portal     DEMO_RP_PORT         (default http://localhost:3001, see scripts/demo/relying-party.ts)
// The identity provider starts exactly as src/main.ts starts it; only the portal is extra.
import http from 'node:http';
import { ConfigError, loadConfig, type Config } from '../src/config.ts';
import { buildServices, startServer } from '../src/bootstrap.ts';
import { ClientRegistry } from '../src/oidc/client-registry.ts';
import { DEMO_RP_PORT } from '../src/admin/demo-seed.ts';
import { prepareDemo } from './demo/prepare.ts';
import { createRelyingParty } from './demo/relying-party.ts';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

const config = configOrExit();
// The demo re-registers the demo portal with a new secret: never on real data.
if (config.env === 'production') fail('npm run demo is for development only (NODE_ENV=production is set).');
const rpPort = Number(process.env.DEMO_RP_PORT ?? DEMO_RP_PORT);
if (!Number.isInteger(rpPort) || rpPort < 1 || rpPort > 65535) fail('DEMO_RP_PORT: must be a port number');
// Same host name as the issuer (localhost by default), so the browser treats both as one site.
const rpBase = `${new URL(config.issuer).protocol}//${new URL(config.issuer).hostname}:${rpPort}`;

const services = await buildServices(config);
let idp: Awaited<ReturnType<typeof startServer>>;
try {
  idp = await startServer(services);
} catch (error) {
  await services.store.close();
  const inUse = (error as NodeJS.ErrnoException).code === 'EADDRINUSE';
  fail(inUse
    ? `npm run demo: ${config.host}:${config.port} is in use. Is Poortwachter already running (npm start)? Stop it first, or set PORT to another port.`
    : `npm run demo: cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
}
const demo = await prepareDemo(services, new ClientRegistry(services.store, idp.app.provider, services.clock, services.box), rpBase);

const rp = await createRelyingParty({ issuer: config.issuer, clientId: demo.clientId, clientSecret: demo.clientSecret, baseUrl: rpBase });
const portal = http.createServer(rp.handle);
await new Promise<void>((resolve, reject) => {
  portal.once('error', (error: NodeJS.ErrnoException) =>
    reject(error.code === 'EADDRINUSE' ? new Error(`port ${rpPort} is in use: set DEMO_RP_PORT to another port`) : error),
  );
  portal.listen(rpPort, config.host, resolve);
}).catch(async (error: Error) => {
  await idp.close();
  fail(error.message);
});

process.stdout.write(
  [
    '',
    'Poortwachter demo',
    `  example portal:       ${rpBase}/   <- open this and click "Inloggen"`,
    demo.password
      ? `  patient login:        ${demo.username} / ${demo.password}`
      : `  patient login:        ${demo.username} / the password printed when this demo patient was created (unchanged)`,
    `  identity provider:    ${config.issuer}  (discovery: ${config.issuer}/.well-known/openid-configuration)`,
    `  portal client_id:     ${demo.clientId}`,
    `  portal client_secret: ${demo.clientSecret}${demo.reused ? '  (new: the demo client was re-registered)' : ''}`,
    `  dev outbox (codes):   ${config.issuer}/dev/outbox`,
    '',
    'Stop with Ctrl-C.',
    '',
  ].join('\n'),
);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  portal.closeAllConnections();
  await new Promise<void>((resolve) => portal.close(() => resolve()));
  await idp.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
