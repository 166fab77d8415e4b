// One typed configuration, read from the environment and validated at start. A bad value stops
// the process with a message that names the variable, instead of failing later at first use.
import { z } from 'zod';
import path from 'node:path';
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

const boolean = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const secondsOrDefault = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  ISSUER: z.url().optional(),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:|mongodb(\+srv)?:\/\/)/, 'must start with sqlite: or mongodb://')
    .optional(),
  TRUST_PROXY: boolean.default(false),
  TRUST_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  TRUST_PROXY_ADDRESSES: z.string().optional(),
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().default('Poortwachter <no-reply@localhost>'),
  TWILIO_ACCOUNT_SID: z.string().optional(),
  TWILIO_AUTH_TOKEN: z.string().optional(),
  TWILIO_FROM: z.string().optional(),
  TWILIO_API_URL: z.url().optional(),
  SECRETS_KEY: z
    .string()
    .regex(/^[A-Za-z0-9+/_-]{43,}={0,2}$/, 'must be 32 random bytes, base64 encoded (openssl rand -base64 32)')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(64).default(8),
  PASSWORD_MAX_LENGTH: z.coerce.number().int().min(64).max(1024).default(128),
  SESSION_TTL_SECONDS: secondsOrDefault(8 * 3600),
  ACCESS_TOKEN_TTL_SECONDS: secondsOrDefault(600),
  REFRESH_TOKEN_TTL_SECONDS: secondsOrDefault(14 * 24 * 3600),
  FLOW_TTL_SECONDS: secondsOrDefault(3600),
  CODE_TTL_SECONDS: secondsOrDefault(600),
  REMEMBER_DEVICE_MAX_SECONDS: secondsOrDefault(7 * 24 * 3600),
  // ZINN and MTD mail a temporary password that is typed within days; 72 h by default, at most 14 days.
  TEMPORARY_PASSWORD_TTL_SECONDS: z.coerce.number().int().min(3600).max(14 * 24 * 3600).default(72 * 3600),
  DEV_OUTBOX: boolean.optional(),
  WEBAUTHN_RP_ID: z.string().optional(),
  WEBAUTHN_ORIGINS: z.string().optional(),
  LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  LOCKOUT_STEPS_SECONDS: z
    .string()
    .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'must be a comma-separated list of seconds, e.g. 60,300,900')
    .default('60,300,900'),
  LOCKOUT_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(100),
  PASSWORD_FAILURES_PER_IP: z.coerce.number().int().min(1).max(100_000).default(100),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(0).max(600).default(10),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  issuer: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'mongo'; url: string };
  dataDir: string;
  trustProxy: boolean;
  /** How many proxies in front of us append to X-Forwarded-For (the client's own entries are ignored). */
  trustProxyHops: number;
  /** Addresses/CIDRs of the proxies; when non-empty, X-Forwarded-* from any other peer is ignored. */
  trustProxyAddresses: string[];
  mail: { smtpUrl?: string; from: string };
  twilio: { accountSid?: string; authToken?: string; from?: string; apiUrl?: string };
  /** 32-byte key for AES-256-GCM encryption of secrets at rest. */
  secretsKey: Buffer;
  secretsKeyIsEphemeralDevKey: boolean;
  logLevel: string;
  password: { minLength: number; maxLength: number };
  ttl: {
    session: number;
    accessToken: number;
    refreshToken: number;
    flow: number;
    code: number;
    rememberDeviceMax: number;
    /** How long a mailed temporary password works (`poortwachter user temp-password`). */
    temporaryPassword: number;
  };
  devOutbox: boolean;
  /**
   * Passkey (WebAuthn) overrides for a public host other than ISSUER's; unset parts follow the
   * issuer (see `webauthnRelyingParty`, which derives them when asked: tests change the issuer
   * after binding a port).
   */
  webauthn: { rpId?: string; origins?: string[] };
  lockout: LockoutConfig;
  /** On SIGTERM/SIGINT, how long requests in flight may take before their connections are cut. */
  shutdownTimeoutSeconds: number;
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

export interface LockoutConfig {
  /** Consecutive failures that bring a temporary lock. */
  threshold: number;
  /** Durations of the 1st, 2nd, ... temporary lock; the last one repeats. */
  stepsMs: number[];
  /** Evaluated guesses without a successful login before the hard lock (NIST SP 800-63B-4: ≤ 100). */
  maxFailures: number;
  /** Password attempts per client IP in 15 minutes, across all accounts (successes are given back). */
  perIp: number;
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
  if (e.PASSWORD_MIN_LENGTH > e.PASSWORD_MAX_LENGTH) problems.push('PASSWORD_MIN_LENGTH: larger than max');
  // Unicode domains are compared in the ASCII form browsers hash for the RP ID and use in origins.
  const webauthn = {
    rpId: e.WEBAUTHN_RP_ID === undefined ? undefined : domainToASCII(e.WEBAUTHN_RP_ID.trim().toLowerCase()) || e.WEBAUTHN_RP_ID,
    origins: parseOrigins(e.WEBAUTHN_ORIGINS),
  };
  problems.push(...webauthnProblems(webauthnRelyingParty({ issuer, webauthn }), production));
  const lockSteps = e.LOCKOUT_STEPS_SECONDS.split(',').map((step) => Number(step.trim()));
  if (lockSteps.some((step) => step < 1 || step > 24 * 3600)) problems.push('LOCKOUT_STEPS_SECONDS: each step must be 1 second to 24 hours');
  if (problems.length) throw new ConfigError(problems);

  const url = e.DATABASE_URL;
  const database: Config['database'] = url?.startsWith('mongodb')
    ? { kind: 'mongo', url }
    : { kind: 'sqlite', file: url ? url.replace(/^sqlite:(\/\/)?/, '') : path.join(e.DATA_DIR, 'poortwachter.sqlite') };

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
    twilio: {
      accountSid: e.TWILIO_ACCOUNT_SID,
      authToken: e.TWILIO_AUTH_TOKEN,
      from: e.TWILIO_FROM,
      apiUrl: e.TWILIO_API_URL,
    },
    secretsKey,
    secretsKeyIsEphemeralDevKey: ephemeral,
    logLevel: e.LOG_LEVEL,
    password: { minLength: e.PASSWORD_MIN_LENGTH, maxLength: e.PASSWORD_MAX_LENGTH },
    ttl: {
      session: e.SESSION_TTL_SECONDS,
      accessToken: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshToken: e.REFRESH_TOKEN_TTL_SECONDS,
      flow: e.FLOW_TTL_SECONDS,
      code: e.CODE_TTL_SECONDS,
      rememberDeviceMax: e.REMEMBER_DEVICE_MAX_SECONDS,
      temporaryPassword: e.TEMPORARY_PASSWORD_TTL_SECONDS,
    },
    devOutbox,
    webauthn,
    lockout: {
      threshold: e.LOCKOUT_THRESHOLD,
      stepsMs: lockSteps.map((step) => step * 1000),
      maxFailures: e.LOCKOUT_MAX_FAILURES,
      perIp: e.PASSWORD_FAILURES_PER_IP,
    },
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_SECONDS,
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
