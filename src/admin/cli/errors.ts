// The CLI's two kinds of failure and how any error becomes one line (or a short list) on stderr.
// Operators read these messages, scripts read the exit code: 2 when the command could not start
// (bad invocation or configuration), 1 when it ran and refused or failed. Never a stack trace:
// it says nothing to an operator and may carry data from the store.
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
    case 'common':
      return 'a commonly used password (on the blocklist)';
    case 'contains_name':
      return 'contains the username, a name or the e-mail name';
    case 'mismatch':
      return 'the two entries differ';
  }
}

export interface DescribedError {
  message: string;
  exitCode: number;
}

export function describeError(error: unknown, passwordPolicy = { minLength: 8, maxLength: 128 }): DescribedError {
  const list = (lines: string[]) => lines.map((line) => `\n  - ${line}`).join('');
  if (error instanceof UsageError) return { message: `${error.message}${error.hint ? `\n${error.hint}` : ''}`, exitCode: EXIT_USAGE };
  if (error instanceof ConfigError) return { message: error.message, exitCode: EXIT_USAGE };
  if (error instanceof CliError) return { message: `${error.message}${list(error.details)}`, exitCode: EXIT_FAILURE };
  if (error instanceof ClientValidationError) return { message: `client rejected: ${error.message}`, exitCode: EXIT_FAILURE };
  if (error instanceof PasswordProblemsError) {
    return { message: `password rejected:${list(error.problems.map((p) => describePasswordProblem(p, passwordPolicy)))}`, exitCode: EXIT_FAILURE };
  }
  if (error instanceof DuplicateError) return { message: `another record already has this ${error.field}`, exitCode: EXIT_FAILURE };
  if (error instanceof StoreOpenError) return { message: error.message, exitCode: EXIT_FAILURE };
  const unavailable = storeUnavailableCause(error);
  if (unavailable) return { message: `the database is unavailable (${unavailable.reason}); try again once it is back`, exitCode: EXIT_FAILURE };
  const message = error instanceof Error ? error.message : String(error);
  return { message: `unexpected error: ${message}`, exitCode: EXIT_FAILURE };
}
