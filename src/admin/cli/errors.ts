// The CLI's two kinds of failure and how any error becomes one line (or a short list) on stderr.
// Operators read these messages, scripts read the exit code: 2 when the command could not start
// (bad invocation or configuration), 1 when it ran and refused or failed. Never a stack trace:
// it says nothing to an operator and may carry data from the store.
import { OperationError } from '../operations/errors.ts';
import { ConfigError } from '../../config.ts';
import { ClientValidationError } from '../../oidc/client-registry.ts';
import { PasswordProblemsError } from '../../accounts/passwords.ts';
import type { PasswordProblem } from '../../accounts/password-policy.ts';
import { DuplicateError } from '../../store/port.ts';
import { StoreOpenError, storeUnavailableCause } from '../../store/errors.ts';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The invocation is wrong (unknown flag, missing or malformed value): exit 2. */
export class UsageError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command ran and refused (invalid data, unknown id): exit 1. */
export class CliError extends Error {
  constructor(message: string, readonly details: string[] = []) {
    super(message);
    this.name = 'CliError';
  }
}

export function describePasswordProblem(problem: PasswordProblem, policy: { minLength: number; maxLength: number }): string {
  switch (problem) {
    case 'too_short':
      return `shorter than ${policy.minLength} characters`;
    case 'too_long':
      return `longer than ${policy.maxLength} characters`;
    case 'needs_digit':
      return 'has no digit';
    case 'needs_upper':
      return 'has no upper-case letter';
    case 'needs_lower':
      return 'has no lower-case letter';
    case 'needs_special':
      return 'has no special character';
    case 'common':
      return 'a commonly used password (on the blocklist)';
    case 'contains_name':
      return 'contains the username, a name or the e-mail name';
    case 'reused':
      return 'equal to a previous password';
    case 'same_as_current':
      return 'equal to the current password';
    case 'mismatch':
      return 'the two entries differ';
  }
}

export interface DescribedError {
  message: string;
  /** One line each: the problems found, e.g. every rule a password broke. */
  details: string[];
  /** Where to look next, e.g. `See: poortwachter client add --help`. */
  hint?: string;
  exitCode: number;
}

export function describeError(error: unknown, passwordPolicy = { minLength: 8, maxLength: 128 }): DescribedError {
  if (error instanceof UsageError) return { message: error.message, details: [], ...(error.hint ? { hint: error.hint } : {}), exitCode: EXIT_USAGE };
  if (error instanceof ConfigError) return { message: 'invalid configuration', details: error.problems, exitCode: EXIT_USAGE };
  if (error instanceof CliError) return { message: error.message, details: error.details, exitCode: EXIT_FAILURE };
  if (error instanceof OperationError) {
    return { message: error.message, details: error.problems.length > 1 ? error.problems.map((p) => `${p.field}: ${p.message}`) : [], exitCode: EXIT_FAILURE };
  }
  if (error instanceof ClientValidationError) return { message: `client rejected: ${error.message}`, details: [], exitCode: EXIT_FAILURE };
  if (error instanceof PasswordProblemsError) {
    return { message: 'password rejected:', details: error.problems.map((p) => describePasswordProblem(p, passwordPolicy)), exitCode: EXIT_FAILURE };
  }
  if (error instanceof DuplicateError) return { message: `another record already has this ${error.field}`, details: [], exitCode: EXIT_FAILURE };
  if (error instanceof StoreOpenError) return { message: error.message, details: [], exitCode: EXIT_FAILURE };
  const unavailable = storeUnavailableCause(error);
  if (unavailable) return { message: `the database is unavailable (${unavailable.reason}); try again once it is back`, details: [], exitCode: EXIT_FAILURE };
  const message = error instanceof Error ? error.message : String(error);
  return { message: `unexpected error: ${message}`, details: [], exitCode: EXIT_FAILURE };
}

/** For people: `poortwachter: message`, the details as a list, the hint on its own line. */
export function formatError(described: DescribedError): string {
  const details = described.details.map((line) => `\n  - ${line}`).join('');
  return `poortwachter: ${described.message}${details}${described.hint ? `\n${described.hint}` : ''}\n`;
}

/** For scripts (--json): one JSON document on stderr; the exit code says the same as without --json. */
export function formatErrorJson(described: DescribedError): string {
  return `${JSON.stringify({ error: described.message, details: described.details, ...(described.hint ? { hint: described.hint } : {}) })}\n`;
}

// Options that people reach for and that we refuse on purpose: say why and what to use.
const REFUSED_OPTIONS: Record<string, string> = {
  password: 'passwords are never taken as arguments (they end up in shell history and in `ps` for every user): pipe the password in with --password-stdin',
};

/** Edits between two words, a swap of two neighbours counting as one (`nmae` → `name`). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * Turns node's util.parseArgs errors (written for programmers: "Unknown option '--nmae'. To
 * specify a positional argument starting with a '-', place it at the end ...") into one sentence
 * for an operator, with the nearest known option when it looks like a typo.
 */
export function usageFromParseError(error: unknown, known: readonly string[], hint: string): UsageError {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-[^' ]*)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const name = option.replace(/^-+/, '').split('=')[0]!;
    const refused = REFUSED_OPTIONS[name];
    if (refused) return new UsageError(`--${name} is not an option: ${refused}`, hint);
    const nearest = known.map((k) => ({ k, d: editDistance(name, k) })).sort((x, y) => x.d - y.d)[0];
    const suggestion = nearest && nearest.d <= Math.max(1, Math.floor(name.length / 3)) ? ` (did you mean --${nearest.k}?)` : '';
    return new UsageError(`unknown option ${option.split('=')[0]}${suggestion}`, hint);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    const flag = option.split('=')[0]!;
    return new UsageError(/does not take an argument/.test(message) ? `${flag} takes no value` : `${flag} needs a value`, hint);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return new UsageError('unexpected argument', hint);
  return new UsageError(message, hint);
}
