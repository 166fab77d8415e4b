// Errors of the admin API as problem details (RFC 9457, `application/problem+json`): every 4xx
// and 5xx it answers, with a stable `type` per kind, the field problems where there are any, and
// `WWW-Authenticate` where RFC 6750 asks for it.
import type { Context } from 'koa';
import { OperationError, type FieldProblem } from '../operations/errors.ts';
import { ForbiddenError } from '../operations/access.ts';

export interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: readonly FieldProblem[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export class ProblemError extends Error {
  constructor(readonly problem: Problem, readonly authenticate?: string) {
    super(problem.detail ?? problem.title);
    this.name = 'ProblemError';
  }
}

export const problem = (status: number, code: string, detail?: string, errors?: readonly FieldProblem[]) =>
  new ProblemError({ status, code, title: TITLES[status] ?? 'Error', ...(detail ? { detail } : {}), ...(errors?.length ? { errors } : {}) });

export function unauthorized(detail: string): ProblemError {
  return new ProblemError({ status: 401, code: 'invalid_token', title: TITLES[401]!, detail }, 'Bearer realm="poortwachter-admin", error="invalid_token"');
}

/** An operation's refusal as a problem; a missing scope says which one (RFC 6750 insufficient_scope). */
export function fromOperationError(error: OperationError): ProblemError {
  if (error instanceof ForbiddenError && error.scope) {
    return new ProblemError(
      { status: 403, code: 'insufficient_scope', title: TITLES[403]!, detail: error.message },
      `Bearer realm="poortwachter-admin", error="insufficient_scope", scope="${error.scope}"`,
    );
  }
  return problem(error.status, error.code, error.message, error.problems);
}

export function sendProblem(ctx: Context, error: ProblemError, instance: string): void {
  const { problem: p } = error;
  ctx.status = p.status;
  ctx.type = 'application/problem+json';
  if (error.authenticate) ctx.set('WWW-Authenticate', error.authenticate);
  ctx.body = { type: `urn:poortwachter:problem:${p.code}`, title: p.title, status: p.status, ...(p.detail ? { detail: p.detail } : {}), instance, ...(p.errors ? { errors: p.errors } : {}) };
}
