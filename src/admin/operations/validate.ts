// Input through its zod schema: every problem named by field, as an OperationError (400).
import type { z } from 'zod';
import { OperationError } from './errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'unknown field' }));
    return [{ field: issue.path.join('.') || '(body)', message: issue.message }];
  });
  throw new OperationError('invalid_input', `the input is not valid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
}
