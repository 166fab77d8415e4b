// What an operation refuses with. Plain data the caller turns into its own form: a problem+json
// answer (API), a message on the page (console), a line on stderr (CLI).
export type OperationErrorCode =
  | 'not_found'
  | 'forbidden'
  | 'invalid_input'
  | 'conflict'
  | 'precondition_failed'
  | 'precondition_required'
  | 'invitation_unavailable'
  | 'delivery_failed';

const STATUS: Record<OperationErrorCode, number> = {
  not_found: 404,
  forbidden: 403,
  invalid_input: 400,
  conflict: 409,
  precondition_failed: 412,
  precondition_required: 428,
  invitation_unavailable: 501,
  delivery_failed: 502,
};

export interface FieldProblem {
  /** Dotted path of the field, e.g. `redirect_uris.0`. */
  field: string;
  message: string;
}

export class OperationError extends Error {
  readonly status: number;

  constructor(
    readonly code: OperationErrorCode,
    message: string,
    readonly problems: readonly FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'OperationError';
    this.status = STATUS[code];
  }
}

/** A record the actor may not see is answered as absent: a practice learns nothing of other organisations. */
export const notFound = (what: string) => new OperationError('not_found', `no ${what}`);
