// What a patient typed in a code field, judged before the code itself is compared, so that the
// page can say what is wrong ("only digits", "6 digits") instead of a bare "wrong code".
import { CODE_LENGTH, normaliseCodeInput } from './one-time-codes.ts';

export type CodeInputProblem = 'code_required' | 'code_not_digits' | 'code_length';

export function codeInputProblem(input: string): CodeInputProblem | undefined {
  const code = normaliseCodeInput(input);
  if (code.length === 0) return 'code_required';
  if (!/^\d+$/.test(code)) return 'code_not_digits';
  if (code.length !== CODE_LENGTH) return 'code_length';
  return undefined;
}
