// The policy a deployment runs with: POLICY_DEFAULTS (defaults.ts), then a JSON file (POLICY_FILE,
// any part of the defaults' shape), then the environment variables that existed before. Checked at
// start with zod: an unknown key, a wrong type or a value outside what the rules allow stops the
// process with a message that names the key, never a limit silently out of range.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { POLICY_DEFAULTS, REMEMBER_CHOICES, type Policy } from './defaults.ts';

type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A deep-partial Policy: what a file or the environment may set (arrays are given whole). */
export type PolicyOverride = DeepPartial<Policy>;

const count = z.number().int().min(1);
const seconds = z.number().int().min(1);
const limit = z.strictObject({ max: count, windowSeconds: seconds }).partial();
const choice = z.enum(REMEMBER_CHOICES);

const overrideSchema = z.strictObject({
  passwords: z.strictObject({ minLength: count, maxLength: count, failuresPerIp: limit, changeFailures: limit, temporaryTtlSeconds: seconds }).partial(),
  lockout: z.strictObject({ threshold: count, stepsSeconds: z.array(seconds).min(1), maxFailures: count, loginNameMemorySeconds: seconds }).partial(),
  codes: z.strictObject({ ttlSeconds: seconds, attemptsPerCode: count, failuresPerAccount: limit, sends: limit, resendCooldownSeconds: z.number().int().min(0), guessingNoticeWindowSeconds: seconds }).partial(),
  totp: z.strictObject({ failures: limit, enrolFailures: limit }).partial(),
  recoveryCodes: z.strictObject({ failures: limit }).partial(),
  passkeys: z.strictObject({ failures: limit }).partial(),
  rememberDevice: z.strictObject({ choices: z.array(choice).min(1), defaultChoice: choice, maxSeconds: z.number().int().min(0) }).partial(),
  accountPage: z.strictObject({ reauthenticationSeconds: seconds, emailChangeLinkSeconds: seconds, emailChangeLinks: limit, activityDays: z.number().int().min(1).max(3650) }).partial(),
  adminConsole: z.strictObject({ idleSeconds: seconds, maxSeconds: seconds }).partial(),
  flows: z.strictObject({ ttlSeconds: seconds, keptAfterExpirySeconds: z.number().int().min(0) }).partial(),
  recovery: z.strictObject({
    captcha: z.strictObject({ algorithm: z.enum(['PBKDF2/SHA-256', 'SHA-256']), cost: count, counterMin: count, counterMax: count, ttlSeconds: seconds }).partial(),
    startsPerIp: limit,
    challengesPerIp: limit,
    identifyPerIp: limit,
    noScriptPerIp: limit,
    perLoginName: limit,
    perAccount: limit,
    phoneGuesses: limit,
    sendsPerPhone: limit,
    sendsPerIp: limit,
    mailsPerFlow: count,
    mailsPerAccount: limit,
    mailsPerIp: limit,
    linkTtlSeconds: seconds,
  }).partial(),
  activation: z.strictObject({ linkTtlSeconds: seconds }).partial(),
}).partial();

/** Reads and checks a policy file; problems are returned, named by file and key. */
export function readPolicyFile(file: string): { override: PolicyOverride; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { override: {}, problems: [`POLICY_FILE: ${file} cannot be read as JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  const parsed = overrideSchema.safeParse(json);
  if (!parsed.success) return { override: {}, problems: parsed.error.issues.map((i) => `POLICY_FILE ${file}: ${i.path.join('.') || '(top)'}: ${i.message}`) };
  return { override: parsed.data as PolicyOverride, problems: [] };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) if (value !== undefined) out[key] = merge(out[key], value);
  return out as T;
}

/** The defaults with each override applied in turn (later wins; arrays are replaced, not merged). */
export function mergePolicy(...overrides: PolicyOverride[]): Policy {
  return overrides.reduce<Policy>((policy, override) => merge(policy, override), structuredClone(POLICY_DEFAULTS));
}

/** What the rules forbid whatever a file says: below a security floor, or contradicting itself. */
export function policyProblems(policy: Policy): string[] {
  const problems: string[] = [];
  const { passwords, lockout, rememberDevice } = policy;
  if (passwords.minLength < 8) problems.push('passwords.minLength (PASSWORD_MIN_LENGTH): at least 8 (NIST SP 800-63B-4)');
  if (passwords.maxLength < 64) problems.push('passwords.maxLength (PASSWORD_MAX_LENGTH): at least 64 (NIST SP 800-63B-4)');
  if (passwords.maxLength > 1024) problems.push('passwords.maxLength (PASSWORD_MAX_LENGTH): at most 1024');
  if (passwords.minLength > passwords.maxLength) problems.push('passwords.minLength (PASSWORD_MIN_LENGTH): larger than max');
  if (passwords.temporaryTtlSeconds < 3600 || passwords.temporaryTtlSeconds > 14 * 24 * 3600) problems.push('passwords.temporaryTtlSeconds: 1 hour to 14 days');
  if (lockout.maxFailures > 100) problems.push('lockout.maxFailures (LOCKOUT_MAX_FAILURES): at most 100 (NIST SP 800-63B-4 §3.2.2)');
  if (lockout.threshold > 100) problems.push('lockout.threshold (LOCKOUT_THRESHOLD): at most 100');
  if (lockout.stepsSeconds.some((step) => step < 1 || step > 24 * 3600)) problems.push('lockout.stepsSeconds (LOCKOUT_STEPS_SECONDS): each step must be 1 second to 24 hours');
  const { recovery } = policy;
  if (recovery.linkTtlSeconds > 24 * 3600) problems.push('recovery.linkTtlSeconds: at most 24 hours (NIST SP 800-63B-4)');
  // An invitation link opens an account that has no password yet: a mailbox copy must not do so for weeks.
  if (policy.activation.linkTtlSeconds > 14 * 24 * 3600) problems.push('activation.linkTtlSeconds: at most 14 days');
  if (recovery.captcha.counterMin > recovery.captcha.counterMax) problems.push('recovery.captcha.counterMin: larger than counterMax');
  if (recovery.captcha.counterMax > 0xffffffff) problems.push('recovery.captcha.counterMax: at most 2^32 - 1');
  if (!rememberDevice.choices.includes(rememberDevice.defaultChoice)) problems.push(`rememberDevice.defaultChoice: "${rememberDevice.defaultChoice}" is not one of the offered choices (${rememberDevice.choices.join(', ')})`);
  return problems;
}
