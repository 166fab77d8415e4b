// One typed configuration, read from the environment and validated at start. A bad value stops
// the process with a message that names the variable, instead of failing later at first use.
import { z } from 'zod';
import path from 'node:path';
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { DatabaseConfig } from './store/open.ts';
import type { Policy } from './policy/defaults.ts';
import { mergePolicy, policyProblems, readPolicyFile, type PolicyOverride } from './policy/load.ts';
import { colourProblem, type DeploymentBrand } from './brand/brand.ts';

const boolean = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const secondsOrDefault = (fallback: number) => z.coerce.number().int().positive().default(fallback);

// Every variable says what it is for (`.describe()`): docs/configuration.md is generated from these
// descriptions (`npm run docs:config`), and a test fails when the committed file differs.
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development')
    .describe('Which rules apply. `production` refuses to start without SECRETS_KEY, SMTP_URL, TRUST_PROXY=true, an https ISSUER and METRICS_TOKEN or METRICS_ALLOW, and never serves the dev outbox.'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000)
    .describe('TCP port the HTTP server listens on (0: any free port).'),
  HOST: z.string().default('127.0.0.1')
    .describe('Address the HTTP server binds to. Behind a proxy in a container, `0.0.0.0`; then make sure only the proxy can reach it.'),
  ISSUER: z.url().optional()
    .describe('Public base URL of the IdP as portals and browsers see it (`https://...` in production). Default `http://localhost:$PORT`.'),
  DATA_DIR: z.string().default('./data')
    .describe('Directory of the embedded SQLite store (`poortwachter.sqlite` inside it), used when DATABASE_URL is not set.'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|mongodb(\+srv)?:\/\/)/, 'must start with sqlite: or mongodb://')
    .optional()
    .describe('The store, named explicitly: `sqlite:/path/to/file.sqlite`, or `mongodb://host/db?replicaSet=rs0` for MongoDB (a replica set).'),
  DB_MIGRATE: z.enum(['auto', 'off']).optional()
    .describe('MongoDB: `auto` creates collections and indexes and migrates the database at start; `off` refuses to start on a database whose schema is behind (run `poortwachter db migrate` first). Default `auto`, `off` in production. SQLite always migrates its file when it opens.'),
  SQLITE_SYNCHRONOUS: z.enum(['FULL', 'NORMAL', 'EXTRA']).optional()
    .describe('SQLite `synchronous` pragma; default FULL (every acknowledged write survives a power cut). NORMAL trades the last commits on power loss for speed.'),
  TRUST_PROXY: boolean.default(false)
    .describe('Believe X-Forwarded-For/-Proto/-Host (and X-Request-Id) from the TLS-terminating proxy in front. Required in production; never true without such a proxy, and then the app must be reachable only through it.'),
  TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1)
    .describe('How many proxies in front of Poortwachter append to X-Forwarded-For; the entries before them are the client\'s own claims and are ignored.'),
  TRUST_PROXY_ADDRESSES: z.string().optional()
    .describe('Comma-separated IP addresses or CIDR ranges of those proxies (only with TRUST_PROXY=true). X-Forwarded-* and X-Request-Id from any other peer are ignored.'),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional()
    .describe('SMTP server for e-mail codes and notices, e.g. `smtps://user:pass@smtp.example.nl:465`. Required in production; without it development records mail in the dev outbox.'),
  MAIL_FROM: z.string().default('Poortwachter <no-reply@localhost>')
    .describe('Sender of every e-mail.'),
  BRAND_NAME: z.string().trim().min(1).max(60).regex(/^[^\p{Cc}\p{Cf}]+$/u, 'no control characters').default('Poortwachter')
    .describe('Name on pages reached without a portal (the account pages opened directly) and of the account pages\' own login; portals carry their own brand (`client update --name --logo --color`).'),
  BRAND_COLOR: z.string().optional().superRefine((value, ctx) => {
    const problem = value === undefined ? undefined : colourProblem(value.toLowerCase());
    if (problem) ctx.addIssue({ code: 'custom', message: problem.replace('brand_color', 'BRAND_COLOR') });
  })
    .describe('Colour (#rrggbb) of pages without a portal; refused below WCAG AA contrast (4.5:1) against white. Default: Poortwachter blue.'),
  TWILIO_ACCOUNT_SID: z.string().optional()
    .describe('Twilio account for SMS and voice codes (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together, or none).'),
  TWILIO_AUTH_TOKEN: z.string().optional()
    .describe('Twilio auth token (secret).'),
  TWILIO_FROM: z.string().optional()
    .describe('Sender of SMS and calls: a phone number in E.164, or an alphanumeric sender such as `ZINNZORG` for SMS only (calls need a number).'),
  TWILIO_API_URL: z.url().optional()
    .describe('Override of Twilio\'s API base URL (a regional edge; tests point it at a local fake API).'),
  SECRETS_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43,}={0,2}$/, 'must be 32 random bytes, base64 encoded (openssl rand -base64 32)')
    .optional()
    .describe('32 random bytes, base64 (`openssl rand -base64 32`): encrypts TOTP secrets and phone numbers at rest and keys the code hashes. Required in production; keep it with the backups, never in the repository.'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Least severe log level written (JSON lines on stdout). `info` has one line per request; probes (/healthz, /readyz, /metrics) are logged at `debug`.'),
  POLICY_FILE: z.string().optional()
    .describe('JSON file overriding any part of the tunable limits in src/policy/defaults.ts (code lifetime and attempts, send caps, lockout, remember-device choices, ...), checked at start. The variables below predate it: when set, they win over it.'),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).optional()
    .describe('Shortest password accepted (default 8).'),
  PASSWORD_MAX_LENGTH: z.coerce.number().int().min(64).max(1024).optional()
    .describe('Longest password accepted (default 128; at least 64, so pass phrases fit).'),
  SESSION_TTL_SECONDS: secondsOrDefault(8 * 3600)
    .describe('Lifetime of a login session at Poortwachter (single sign-on across portals).'),
  ACCESS_TOKEN_TTL_SECONDS: secondsOrDefault(600)
    .describe('Lifetime of access tokens.'),
  REFRESH_TOKEN_TTL_SECONDS: secondsOrDefault(14 * 24 * 3600)
    .describe('Lifetime of refresh tokens.'),
  FLOW_TTL_SECONDS: z.coerce.number().int().positive().optional()
    .describe('How long a hosted login flow may take (default 3600; the oidc interaction lives at most an hour).'),
  CODE_TTL_SECONDS: z.coerce.number().int().positive().optional()
    .describe('Lifetime of SMS, voice and e-mail codes (default 600).'),
  REMEMBER_DEVICE_MAX_SECONDS: z.coerce.number().int().positive().optional()
    .describe('Deployment cap on "remember this device" (default one week; the patient chooses none, 12 hours, 3 days or 1 week).'),
  DEV_OUTBOX: boolean.optional()
    .describe('Serve /dev/outbox (mail, SMS and calls that would have been sent, with their codes). Default: on in development when HOST is a loopback address; never in production.'),
  WEBAUTHN_RP_ID: z.string().optional()
    .describe('Passkey relying-party ID: ISSUER\'s host by default; a parent domain when patients reach Poortwachter on another public host. Choose once: changing it makes every registered passkey unusable.'),
  WEBAUTHN_ORIGINS: z.string().optional()
    .describe('Comma-separated origins (`scheme://host[:port]`) where passkey ceremonies may run; default ISSUER\'s origin. Each host must be the RP ID or under it.'),
  LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).optional()
    .describe('Wrong passwords in a row that start a temporary lock of the account (and of the typed name); default 5.'),
  LOCKOUT_STEPS_SECONDS: z
    .string()
    .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'must be a comma-separated list of seconds, e.g. 60,300,900')
    .optional()
    .describe('Durations of the 1st, 2nd, 3rd... temporary lock in seconds (default 60,300,900); the last one repeats.'),
  LOCKOUT_MAX_FAILURES: z.coerce.number().int().min(1).max(100).optional()
    .describe('Wrong guesses without a successful login before a hard lock that only `poortwachter user unlock` lifts (default 100; NIST SP 800-63B-4: at most 100).'),
  PASSWORD_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).optional()
    .describe('Password attempts per client IP in 15 minutes across all accounts (default 100; successful ones are given back).'),
  KEYS_REFRESH_SECONDS: z.coerce.number().int().min(1).max(3600).default(30)
    .describe('How often a running server checks the store for a new signing key set (one read of one record): after `poortwachter keys rotate`, every instance signs with the new key within this many seconds, without a restart.'),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(0).max(600).default(10)
    .describe('On SIGTERM/SIGINT, how long requests in flight may take before their connections are cut (exit 1).'),
  AUDIT_RETENTION_DAYS: z.union([z.literal('keep'), z.coerce.number().int().min(1)]).default('keep')
    .describe('`keep` (default: NEN 7513 practice keeps access logging for years) or the number of days after which audit events are deleted by the periodic sweep. Export first: `poortwachter audit export --until DATE`.'),
  ADMIN_SECRET_GRACE_SECONDS: z.coerce.number().int().min(0).max(30 * 86400).default(86400)
    .describe('After a portal\'s secret is rotated (admin API or console), how long the old secret still works at the token endpoint, so the portal can switch without downtime (default 86400: 24 hours; 0 ends it at once).'),
  ADMIN_API_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(65_536)
    .describe('Largest JSON body the admin API accepts (bytes); larger ones are refused with 413 before they are parsed.'),
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{32,}$/, 'must be at least 32 printable characters without spaces (openssl rand -hex 32)')
    .optional()
    .describe('Bearer token Prometheus sends to GET /metrics (`Authorization: Bearer ...`; at least 32 characters, `openssl rand -hex 32`). Production needs this or METRICS_ALLOW; with both, both apply.'),
  METRICS_ALLOW: z.string().optional()
    .describe('Comma-separated IP addresses or CIDR ranges that may read GET /metrics, checked against the connection itself (requests relayed by a proxy are refused). Without METRICS_TOKEN and METRICS_ALLOW, outside production only loopback connections may.'),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  issuer: string;
  /** SQLite: `synchronous` only when SQLITE_SYNCHRONOUS overrides the store's default (FULL). */
  database: DatabaseConfig;
  dataDir: string;
  trustProxy: boolean;
  /** How many proxies in front of us append to X-Forwarded-For (the client's own entries are ignored). */
  trustProxyHops: number;
  /** Addresses/CIDRs of the proxies; when non-empty, X-Forwarded-* from any other peer is ignored. */
  trustProxyAddresses: string[];
  mail: { smtpUrl?: string; from: string };
  /** The deployment brand: pages without a portal, and the account pages' own login. */
  brand: DeploymentBrand;
  twilio: { accountSid?: string; authToken?: string; from?: string; apiUrl?: string };
  /** 32-byte key for AES-256-GCM encryption of secrets at rest. */
  secretsKey: Buffer;
  secretsKeyIsEphemeralDevKey: boolean;
  logLevel: string;
  /** Lifetimes of oidc-provider's sessions and tokens, in seconds. */
  ttl: {
    session: number;
    accessToken: number;
    refreshToken: number;
  };
  /** Every tunable limit: the defaults (src/policy/defaults.ts), POLICY_FILE, then the older env variables. */
  policy: Policy;
  devOutbox: boolean;
  /**
   * Passkey (WebAuthn) overrides for a public host other than ISSUER's; unset parts follow the
   * issuer (see `webauthnRelyingParty`, which derives them when asked: tests change the issuer
   * after binding a port).
   */
  webauthn: { rpId?: string; origins?: string[] };
  /** On SIGTERM/SIGINT, how long requests in flight may take before their connections are cut. */
  shutdownTimeoutSeconds: number;
  /** How often a serving process reads the stored signing key set (live-keys.ts). */
  keysRefreshSeconds: number;
  /** Days audit events are kept; null keeps them (the default, see README: NEN 7513). */
  auditRetentionDays: number | null;
  /** Who may read /metrics: the bearer token and/or the addresses (both apply when both are set). */
  metrics: { token?: string; allow: string[] };
  /** The admin operations and API: grace of a rotated portal secret, largest API body. */
  admin: { secretGraceSeconds: number; maxBodyBytes: number };
}

/** The WebAuthn relying party: credentials are bound to `rpId`, ceremonies to one of `origins`. */
export interface WebauthnRelyingParty {
  rpId: string;
  origins: string[];
}

export function webauthnRelyingParty(config: Pick<Config, 'issuer' | 'webauthn'>): WebauthnRelyingParty {
  const issuer = new URL(config.issuer);
  return { rpId: config.webauthn.rpId ?? issuer.hostname, origins: config.webauthn.origins ?? [issuer.origin] };
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * What a browser would refuse, found at start instead of at the first ceremony: the RP ID must be
 * a domain (not an IP address: browsers refuse those) equal to or a parent of every origin's host,
 * and origins are bare `scheme://host[:port]`, https in production. Whether the RP ID is a public
 * suffix (`co.uk`) is not checked here (no public suffix list); browsers refuse that one too.
 */
export function webauthnProblems(rp: WebauthnRelyingParty, production: boolean): string[] {
  const problems: string[] = [];
  const ip = isIP(rp.rpId.replace(/^\[|\]$/g, '')) !== 0;
  if (ip && production) problems.push(`WEBAUTHN_RP_ID: "${rp.rpId}" is an IP address; passkeys need a domain name`);
  if (!ip && !HOSTNAME.test(rp.rpId)) problems.push(`WEBAUTHN_RP_ID: "${rp.rpId}" is not a domain name`);
  if (rp.origins.length === 0) problems.push('WEBAUTHN_ORIGINS: names no origin');
  for (const origin of rp.origins) {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      problems.push(`WEBAUTHN_ORIGINS: "${origin}" is not a URL`);
      continue;
    }
    if (url.origin !== origin) problems.push(`WEBAUTHN_ORIGINS: "${origin}" must be only scheme://host[:port], e.g. ${url.origin}`);
    else if (url.protocol !== 'https:' && (production || url.protocol !== 'http:')) problems.push(`WEBAUTHN_ORIGINS: "${origin}" must be https://${production ? '' : ' (or http:// in development)'}`);
    else if (url.hostname !== rp.rpId && !url.hostname.endsWith(`.${rp.rpId}`)) {
      problems.push(`WEBAUTHN_RP_ID: "${rp.rpId}" is not ${url.hostname} or a parent domain of it (origin ${origin})`);
    }
  }
  return problems;
}

function parseOrigins(value: string | undefined): string[] | undefined {
  return value?.split(',').map((o) => o.trim().replace(/\/+$/, '')).filter(Boolean);
}

/** The policy the older environment variables set (each wins over POLICY_FILE when present). */
function policyFromEnv(e: z.output<typeof envSchema>): PolicyOverride {
  return {
    passwords: { minLength: e.PASSWORD_MIN_LENGTH, maxLength: e.PASSWORD_MAX_LENGTH, failuresPerIp: { max: e.PASSWORD_FAILURES_PER_IP } },
    lockout: {
      threshold: e.LOCKOUT_THRESHOLD,
      maxFailures: e.LOCKOUT_MAX_FAILURES,
      stepsSeconds: e.LOCKOUT_STEPS_SECONDS?.split(',').map((step) => Number(step.trim())),
    },
    codes: { ttlSeconds: e.CODE_TTL_SECONDS },
    rememberDevice: { maxSeconds: e.REMEMBER_DEVICE_MAX_SECONDS },
    flows: { ttlSeconds: e.FLOW_TTL_SECONDS },
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

// A fixed development key keeps encrypted dev data readable across restarts; production refuses it.
const DEV_SECRETS_KEY = Buffer.alloc(32, 'poortwachter-development-only-key');

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const production = e.NODE_ENV === 'production';

  let secretsKey = DEV_SECRETS_KEY;
  let ephemeral = true;
  if (e.SECRETS_KEY) {
    secretsKey = Buffer.from(e.SECRETS_KEY, 'base64');
    ephemeral = false;
    if (secretsKey.length !== 32) problems.push('SECRETS_KEY: must decode to exactly 32 bytes');
  } else if (production) {
    problems.push('SECRETS_KEY: required in production (openssl rand -base64 32)');
  }
  const issuer = (e.ISSUER ?? `http://localhost:${e.PORT}`).replace(/\/$/, '');
  if (production && !issuer.startsWith('https://')) problems.push('ISSUER: must be https:// in production');
  // We serve plain HTTP behind a TLS-terminating proxy; without trusting its X-Forwarded-Proto
  // Koa cannot tell the connection is HTTPS and cookies would lose their Secure flag.
  if (production && !e.TRUST_PROXY) problems.push('TRUST_PROXY: must be true in production (Poortwachter runs behind a TLS-terminating proxy)');
  const trustProxyAddresses = (e.TRUST_PROXY_ADDRESSES ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (trustProxyAddresses.length && !e.TRUST_PROXY) problems.push('TRUST_PROXY_ADDRESSES: only means something with TRUST_PROXY=true');
  const invalidProxy = parseProxyAddresses(trustProxyAddresses).invalid;
  if (invalidProxy !== undefined) problems.push(`TRUST_PROXY_ADDRESSES: "${invalidProxy}" is not an IP address or CIDR range (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)`);
  if (production && !e.SMTP_URL) problems.push('SMTP_URL: required in production (no dev outbox there)');
  const twilioSet = [e.TWILIO_ACCOUNT_SID, e.TWILIO_AUTH_TOKEN, e.TWILIO_FROM].filter(Boolean).length;
  if (twilioSet !== 0 && twilioSet !== 3) {
    problems.push('TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM: set all three or none');
  }
  // By default only on a loopback address: a deployment that forgot NODE_ENV must not serve codes.
  const loopback = /^(127\.|::1$|localhost$)/.test(e.HOST);
  const devOutbox = e.DEV_OUTBOX ?? (!production && loopback);
  if (production && devOutbox) problems.push('DEV_OUTBOX: the dev outbox cannot be enabled in production');
  // Unicode domains are compared in the ASCII form browsers hash for the RP ID and use in origins.
  const webauthn = {
    rpId: e.WEBAUTHN_RP_ID === undefined ? undefined : domainToASCII(e.WEBAUTHN_RP_ID.trim().toLowerCase()) || e.WEBAUTHN_RP_ID,
    origins: parseOrigins(e.WEBAUTHN_ORIGINS),
  };
  problems.push(...webauthnProblems(webauthnRelyingParty({ issuer, webauthn }), production));
  const metricsAllow = (e.METRICS_ALLOW ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  const invalidMetricsAddress = parseProxyAddresses(metricsAllow).invalid;
  if (invalidMetricsAddress !== undefined) problems.push(`METRICS_ALLOW: "${invalidMetricsAddress}" is not an IP address or CIDR range (e.g. 10.0.0.5, 10.0.0.0/8)`);
  // Metrics map the service (portals, traffic, error rates): never open to the world.
  if (production && !e.METRICS_TOKEN && !metricsAllow.length) problems.push('METRICS_TOKEN or METRICS_ALLOW: one is required in production to protect /metrics (openssl rand -hex 32)');
  const fromFile = e.POLICY_FILE ? readPolicyFile(e.POLICY_FILE) : { override: {}, problems: [] };
  problems.push(...fromFile.problems);
  const policy = mergePolicy(fromFile.override, policyFromEnv(e));
  problems.push(...policyProblems(policy));
  if (problems.length) throw new ConfigError(problems);

  const url = e.DATABASE_URL;
  const database: Config['database'] = url?.startsWith('mongodb')
    // In production a schema change is a step the operator takes (`db migrate`), not a side
    // effect of whichever replica starts first.
    ? { kind: 'mongo', url, migrate: e.DB_MIGRATE ?? (production ? 'off' : 'auto') }
    : {
        kind: 'sqlite',
        file: url ? url.replace(/^sqlite:(\/\/)?/, '') : path.join(e.DATA_DIR, 'poortwachter.sqlite'),
        ...(e.SQLITE_SYNCHRONOUS ? { synchronous: e.SQLITE_SYNCHRONOUS } : {}),
      };

  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    issuer,
    database,
    dataDir: e.DATA_DIR,
    trustProxy: e.TRUST_PROXY,
    trustProxyHops: e.TRUST_PROXY_HOPS,
    trustProxyAddresses,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM },
    brand: { name: e.BRAND_NAME, ...(e.BRAND_COLOR ? { colour: e.BRAND_COLOR.toLowerCase() } : {}) },
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      from: e.TWILIO_FROM,
      apiUrl: e.TWILIO_API_URL,
    },
    secretsKey,
    secretsKeyIsEphemeralDevKey: ephemeral,
    logLevel: e.LOG_LEVEL,
    ttl: {
      session: e.SESSION_TTL_SECONDS,
      accessToken: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshToken: e.REFRESH_TOKEN_TTL_SECONDS,
    },
    policy,
    devOutbox,
    webauthn,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
    keysRefreshSeconds: e.KEYS_REFRESH_SECONDS,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS === 'keep' ? null : e.AUDIT_RETENTION_DAYS,
    metrics: { token: e.METRICS_TOKEN, allow: metricsAllow },
    admin: { secretGraceSeconds: e.ADMIN_SECRET_GRACE_SECONDS, maxBodyBytes: e.ADMIN_API_MAX_BODY_BYTES },
  };
}

/** `10.0.0.0/8`, `192.168.1.10`, `fd00::/8` → a BlockList, or the first entry that is neither. */
export function parseProxyAddresses(entries: readonly string[]): { list: BlockList; invalid?: undefined } | { list?: undefined; invalid: string } {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? undefined : Number(prefix);
    const maxBits = family === 6 ? 128 : 32;
    if (family === 0 || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(prefix!) || bits > maxBits))) return { invalid: entry };
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return { list };
}
