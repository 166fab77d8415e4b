// What the bench runner and the two server processes agree on: the fixed user and client, the
// token lifetimes both servers get, and the line protocol between runner and server process.
// Kept in one place so "same client, same TTLs" cannot drift apart between the two servers.

/** Never contacted: the login driver stops at this URL and reads the code from it. */
export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

/**
 * Logins rotate over this many patients (`bench.patient.0` …): many patients signing in at once is
 * the real load, and one account logging in from 16 connections at once would (rightly) hit its
 * own attempt limit.
 */
export const BENCH_PATIENTS = 64;

let nextPatient = 0;
export function nextPatientLogin(base: string): string {
  nextPatient = (nextPatient + 1) % BENCH_PATIENTS;
  return `${base}.${nextPatient}`;
}

export const BENCH_USER = {
  username: 'bench.patient',
  // Passes Poortwachter's password policy (length, blocklist, no part of the name).
  password: 'Kastanje-Fietsbel-42',
  email: 'bench.patient@example.nl',
  givenName: 'Bench',
  familyName: 'Patiënt',
} as const;

/** Scopes of every login: the ID token then carries the same profile and email claims on both. */
export const LOGIN_SCOPE = 'openid profile email';

/** Token lifetimes in seconds, handed to both servers (Poortwachter via its env, bare via ttl). */
export const TTL = {
  accessToken: 600,
  refreshToken: 14 * 24 * 3600,
  session: 8 * 3600,
  interaction: 3600,
  authorizationCode: 60,
  idToken: 3600,
} as const;

/** argon2id at the parameters Poortwachter uses (src/accounts/password-hash.ts), for the baseline. */
export const ARGON2ID_PARAMS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export type ServerName = 'poortwachter' | 'bare';

/** The one JSON line a server process prints on stdout once it listens. */
export interface ServerInfo {
  name: ServerName;
  url: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  login: string;
  password: string;
  pid: number;
}

/** Runner → server, one JSON object a line on the server's stdin. */
export type ControlRequest =
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'profile-start' }
  | { id: number; cmd: 'profile-stop'; file: string };

/** Cumulative counters; the runner subtracts two of them to get one scenario's share. */
export interface ProcessStats {
  /** process.cpuUsage(), microseconds, all threads of the process (argon2 runs on the libuv pool). */
  cpu: { user: number; system: number };
  /** performance.eventLoopUtilization(): milliseconds the event loop was idle / busy. */
  elu: { idle: number; active: number };
}

/** Server → runner, one JSON object a line on the server's stdout (after the ServerInfo line). */
export type ControlReply =
  | { id: number; ok: true; stats?: ProcessStats }
  | { id: number; ok: false; error: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isServerInfo(value: unknown): value is ServerInfo {
  return (
    isRecord(value) &&
    (value.name === 'poortwachter' || value.name === 'bare') &&
    ['url', 'clientId', 'clientSecret', 'redirectUri', 'login', 'password'].every((k) => typeof value[k] === 'string') &&
    typeof value.pid === 'number'
  );
}
