// The container files, checked without a Docker engine (none runs here): docker-compose.yml against
// the Compose Specification JSON schema that dclint bundles (validated with ajv) plus dclint's rules
// that matter for safety; what the compose file configures, read back through our own config
// schema; the Caddyfile through Caddy's own adapter; the Dockerfile's rules, and its health check
// command run against a real server.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DCLinter } from 'dclint';
import { parse } from 'yaml';
import { BlockList } from 'node:net';
import { envSchema, loadConfig } from '../../src/config.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  env_file?: { path: string; required: boolean }[];
  ports?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  networks: Record<string, { ipam?: { config: { subnet: string }[] } }>;
}

const compose = parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as ComposeFile;
const idps = Object.entries(compose.services).filter(([name]) => /^idp\d$/.test(name));

/** Compose's `${NAME:-default}` with the defaults, as an unconfigured `docker compose up` sees it. */
const interpolate = (value: string) => value.replace(/\$\{([A-Z_]+):-([^}]*)\}/g, (_, _name: string, fallback: string) => fallback);

function lint(file: string) {
  // Every rule off except the ones below: the schema is always checked.
  const off = { 'require-quotes-in-ports': 0, 'service-keys-order': 0, 'top-level-properties-order': 0, 'services-alphabetical-order': 0, 'service-ports-alphabetical-order': 0, 'service-dependencies-alphabetical-order': 0, 'no-quotes-in-volumes': 0, 'service-container-name-regex': 0, 'no-build-and-image': 0 } as const;
  const on = { 'no-unbound-port-interfaces': 2, 'service-image-require-explicit-tag': 2, 'no-duplicate-exported-ports': 2, 'no-duplicate-container-names': 2, 'no-version-field': 2, 'require-project-name-field': 2 } as const;
  const linter = new DCLinter({ rules: { ...off, ...on }, quiet: false, debug: false, exclude: [] });
  const [result] = linter.lintFiles([file], false) as { messages: { rule: string; message: string }[] }[];
  return result!.messages.map((m) => `${m.rule}: ${m.message}`);
}

describe('docker-compose.yml', () => {
  let scratch: string;
  beforeAll(() => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'poortwachter-compose-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is valid against the Compose Specification schema and binds no port to every interface', () => {
    expect(lint('docker-compose.yml')).toEqual([]);
  });

  it('is refused when it breaks the schema (the validator really validates)', () => {
    const source = readFileSync('docker-compose.yml', 'utf8');
    const broken: [string, string, string][] = [
      ['unknown condition', source.replace('condition: service_healthy', 'condition: service_ready'), 'invalid-schema'],
      ['misspelt key', source.replace('stop_grace_period:', 'stop_grace_periode:'), 'invalid-schema'],
      ['address not a string', source.replace('ipv4_address: 172.30.80.2', 'ipv4_address: [172.30.80.2]'), 'invalid-schema'],
      ['unknown top-level key', `${source}\nservice: {}\n`, 'invalid-schema'],
      ['port on every interface', source.replace('"127.0.0.1:8025:8025"', '"8025:8025"'), 'no-unbound-port-interfaces'],
      ['image without a version', source.replace('image: mongo:8.0', 'image: mongo'), 'service-image-require-explicit-tag'],
    ];
    for (const [what, text, rule] of broken) {
      expect(text, what).not.toBe(source);
      const file = path.join(scratch, 'docker-compose.yml');
      writeFileSync(file, text);
      const problems = lint(file);
      expect(problems, what).toHaveLength(1);
      expect(problems[0], what).toMatch(new RegExp(`^${rule}: `));
    }
  });

  it('runs two IdP processes of one image in production mode on the MongoDB replica set', () => {
    expect(idps.map(([name]) => name)).toEqual(['idp1', 'idp2']);
    for (const [name, idp] of idps) {
      expect(idp.build, name).toBe('.');
      const env = idp.environment!;
      expect(env.NODE_ENV).toBe('production');
      expect(env.DATABASE_URL).toBe('mongodb://mongo:27017/poortwachter?replicaSet=rs0');
      expect(idp.depends_on?.mongo?.condition).toBe('service_healthy');
      // Secrets come from the env file, never from this file.
      expect(idp.env_file).toEqual([{ path: 'compose.env', required: false }]);
      expect(Object.keys(env)).not.toContain('SECRETS_KEY');
      expect(Object.keys(env)).not.toContain('METRICS_TOKEN');
      // Longer than the graceful stop, so requests in flight finish before SIGKILL.
      expect(Number.parseInt(idp.stop_grace_period!, 10)).toBeGreaterThan(loadConfig({}).shutdownTimeoutSeconds);
      expect(idp.ports, `${name} is reachable only through the proxy`).toBeUndefined();
    }
    const mongo = compose.services.mongo!;
    expect(mongo.command).toEqual(['--replSet', 'rs0', '--bind_ip_all']);
    const init = mongo.healthcheck!.test.join(' ');
    expect(init).toContain("rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'mongo:27017' }] })");
    expect(init).toContain('isWritablePrimary');
    expect(compose.services.mailpit?.image).toMatch(/^axllent\/mailpit:v\d/);
    expect(idps[0]![1].environment!.SMTP_URL).toBe('smtp://mailpit:1025');
  });

  it('trusts exactly the proxy, on the network it shares with the IdPs', () => {
    const proxyNetworks = compose.services.proxy!.networks as Record<string, { ipv4_address?: string }>;
    const proxyAddress = proxyNetworks.edge?.ipv4_address;
    expect(proxyAddress).toBeDefined();
    const [subnet, bits] = compose.networks.edge!.ipam!.config[0]!.subnet.split('/');
    const edge = new BlockList();
    edge.addSubnet(subnet!, Number(bits), 'ipv4');
    expect(edge.check(proxyAddress!, 'ipv4')).toBe(true);
    for (const [, idp] of idps) {
      expect(idp.environment!.TRUST_PROXY).toBe('true');
      expect(idp.environment!.TRUST_PROXY_ADDRESSES).toBe(proxyAddress);
      expect(idp.networks).toContain('edge');
    }
  });

  it('configures the IdPs with variables the config schema knows, which it accepts given the secrets', () => {
    const known = new Set(Object.keys(envSchema.shape));
    const example = readFileSync('deploy/compose.env.example', 'utf8');
    const exampleNames = [...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    for (const name of [...Object.keys(idps[0]![1].environment!), ...exampleNames]) expect(known.has(name), name).toBe(true);
    const env = Object.fromEntries(Object.entries(idps[0]![1].environment!).map(([k, v]) => [k, interpolate(v)]));
    expect(() => loadConfig(env)).toThrow(/SECRETS_KEY: required in production[\s\S]*METRICS_TOKEN or METRICS_ALLOW/);
    const config = loadConfig({ ...env, SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'), METRICS_TOKEN: 'x'.repeat(64) });
    expect(config.issuer).toBe('https://localhost:8443');
    expect(config.database).toEqual({ kind: 'mongo', url: 'mongodb://mongo:27017/poortwachter?replicaSet=rs0', migrate: 'auto' });
  });

  it('keeps the secrets file out of git and out of the image', () => {
    expect(readFileSync('.gitignore', 'utf8').split('\n')).toContain('compose.env');
    const ignored = readFileSync('.dockerignore', 'utf8').split('\n');
    for (const entry of ['compose.env', '.env', '.env.*', 'node_modules', 'data', '.git']) expect(ignored, entry).toContain(entry);
  });

  it('npm run test:mongo starts the mongo service, waits for the replica set and runs the contract suite', () => {
    const script = readFileSync('scripts/test-mongo.sh', 'utf8');
    expect(spawnSync('bash', ['-n', 'scripts/test-mongo.sh']).status).toBe(0);
    expect(script).toContain('docker compose up -d --wait --wait-timeout 120 mongo');
    expect(script).toContain('MONGODB_URL=');
    expect(script).toContain('test/store/mongo.test.ts');
    expect((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts['test:mongo']).toBe('bash scripts/test-mongo.sh');
  });
});

describe('deploy/Caddyfile', () => {
  // Caddy's own parser (Debian's `caddy` package; .ci/run installs it).
  const caddy = '/usr/bin/caddy';

  it('is read by Caddy: TLS from its local CA, round robin over the IdPs by /readyz, a request id, no public /metrics', () => {
    expect(existsSync(caddy), 'install Caddy: apt-get install caddy').toBe(true);
    const result = spawnSync(caddy, ['adapt', '--config', 'deploy/Caddyfile', '--adapter', 'caddyfile'], { encoding: 'utf8', env: { ...process.env, PUBLIC_HOST: 'idp.example.nl' } });
    expect(result.status, result.stderr).toBe(0);
    // Caddy warns on stderr about anything it had to guess (e.g. an unformatted file).
    expect(result.stderr.trim()).toBe('');
    const json = JSON.stringify(JSON.parse(result.stdout));
    const expected = Object.keys(compose.services).filter((name) => /^idp\d$/.test(name)).map((name) => `{"dial":"${name}:3000"}`);
    expect(json).toContain(`"upstreams":[${expected.join(',')}]`);
    expect(json).toContain('"selection_policy":{"policy":"round_robin"}');
    expect(json).toContain('"active":{"interval":5000000000,"timeout":2000000000,"uri":"/readyz"}');
    expect(json).toContain('"X-Request-Id":["{http.request.uuid}"]');
    expect(json).toContain('{"handle":[{"handler":"static_response","status_code":404}],"match":[{"path":["/metrics","/metrics/*"]}]}');
    expect(json).toContain('"host":["idp.example.nl"]');
    expect(json).toContain('"issuers":[{"module":"internal"}]');
    // No trusted_proxies: Caddy ignores X-Forwarded-* from clients and sets its own.
    expect(json).not.toContain('trusted_proxies');
    expect(Number(idps[0]![1].environment!.PORT)).toBe(3000);
  });
});

describe('Dockerfile', () => {
  // Instructions with their continuation lines joined, comments dropped.
  const instructions = readFileSync('Dockerfile', 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const all = (keyword: string) => instructions.filter((line) => line.startsWith(`${keyword} `)).map((line) => line.slice(keyword.length + 1).trim());
  let server: TestServer | undefined;
  afterAll(() => server?.close());

  it('builds on node:24-slim with production dependencies only and runs as a user that is not root', () => {
    expect(all('FROM')).toEqual(['node:24-slim']);
    expect(all('RUN').some((run) => /npm ci --omit=dev\b/.test(run))).toBe(true);
    const user = all('USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    expect(all('STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(all('VOLUME')).toEqual(['["/data"]']);
    expect(all('ENV').join(' ')).toMatch(/DATA_DIR=\/data/);
    // Node itself is PID 1: npm or a shell in between would swallow SIGTERM.
    expect(JSON.parse(all('CMD')[0]!)).toEqual(['node', '--import', 'tsx', 'src/main.ts']);
    for (const copy of all('COPY')) for (const source of copy.split(/\s+/).slice(0, -1).filter((s) => !s.startsWith('--'))) expect(existsSync(source), source).toBe(true);
  });

  it('has a health check that uses Node (no curl in slim) and fails when /healthz does not answer', async () => {
    const healthcheck = all('HEALTHCHECK')[0]!;
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    expect(command[0]).toBe('node');
    expect(healthcheck).not.toMatch(/curl|wget/);
    server = await startTestServer();
    // Asynchronously: the server answers from this very process.
    const run = (port: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, command.slice(1), { env: { ...process.env, PORT: port }, stdio: 'ignore', timeout: 10_000 });
        child.on('exit', (code) => resolve(code));
      });
    expect(await run(new URL(server.url).port)).toBe(0);
    const closed = await startTestServer();
    const closedPort = new URL(closed.url).port;
    await closed.close();
    expect(await run(closedPort)).toBe(1);
  });

  it('every package the running code imports is a production dependency', () => {
    const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    const files = execFileSync('git', ['ls-files', 'src', 'bin', 'views'], { encoding: 'utf8' }).split('\n').filter((f) => /\.(ts|js|mjs)$/.test(f));
    const missing = new Set<string>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      // Value imports only: `import type` is erased before the code runs.
      const specifiers = [...text.matchAll(/^\s*import\s+(?!type\s)[^'"]*?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\.meta\.resolve\(\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
      for (const spec of specifiers) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!(name in manifest.dependencies)) missing.add(`${name} (${file})`);
      }
    }
    expect([...missing]).toEqual([]);
    // The start command itself needs tsx at run time.
    expect(manifest.dependencies).toHaveProperty('tsx');
  });
});
