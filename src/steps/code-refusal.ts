// How a refused one-time code is shown, wherever a code is entered (a factor's step, a required
// action's address check): the same status and the same words for the same reason, so no page can
// tell a patient (or a guesser) more than another.
import type { CodeCheck } from '../accounts/one-time-codes.ts';

export interface CodeRefusal {
  status: number;
  /** The error's key below the step's own locale prefix, e.g. `errors.wrong`. */
  error: string;
  attemptsLeft?: number;
}

/** `problem`: what is wrong with the typed text when it is malformed (codeInputProblem). */
export function codeRefusal(check: Exclude<CodeCheck, { ok: true }>, problem: string | undefined): CodeRefusal {
  switch (check.reason) {
    case 'malformed':
      return { status: 400, error: `errors.${problem ?? 'code_length'}` };
    case 'wrong':
      // The guess that used up the budget already locks: said now, not on the next try.
      if (check.budgetSpent) return { status: 429, error: 'errors.account_locked' };
      return { status: 401, error: 'errors.wrong', ...(check.attemptsLeft === undefined ? {} : { attemptsLeft: check.attemptsLeft }) };
    case 'expired_or_missing':
      return { status: 400, error: 'errors.expired' };
    case 'too_many_attempts':
      return { status: 429, error: 'errors.too_many_attempts' };
    case 'account_locked':
      return { status: 429, error: 'errors.account_locked' };
  }
}
