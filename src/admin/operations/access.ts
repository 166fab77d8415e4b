// The two questions every operation asks first: may this actor do this kind of thing at all
// (role or scope), and may it touch this record (its organisations). A record outside the
// actor's organisations is answered as absent, so a practice learns nothing of the others.
import { allows, confinement, scopeFor, type Actor, type Permission } from './actor.ts';
import { OperationError, notFound } from './errors.ts';

export class ForbiddenError extends OperationError {
  constructor(
    message: string,
    /** The admin API scope that would allow it (`insufficient_scope`), when a scope would. */
    readonly scope?: string,
  ) {
    super('forbidden', message);
  }
}

export function requirePermission(actor: Actor, permission: Permission): void {
  if (allows(actor, permission)) return;
  const scope = actor.kind === 'api' ? scopeFor(permission) : undefined;
  throw new ForbiddenError(actor.kind === 'api' ? `this token lacks the scope ${scope ?? 'for this'}` : `the ${actor.kind === 'admin' ? actor.role : ''} role may not do this`, scope);
}

/** Whether a record with these organisations is within the actor's reach. */
export function withinReach(actor: Actor, organisations: readonly string[]): boolean {
  const scope = confinement(actor);
  return scope === 'all' || organisations.some((id) => scope.includes(id));
}

export function requireReach(actor: Actor, organisations: readonly string[], what: string): void {
  if (!withinReach(actor, organisations)) throw notFound(what);
}

/**
 * The organisations a new record gets: those asked for, which a confined actor may choose only
 * among its own (default: all of its own); an operator may name any that exist.
 */
export function organisationsForNew(actor: Actor, asked: readonly string[] | undefined): string[] {
  const scope = confinement(actor);
  if (scope === 'all') return [...new Set(asked ?? [])];
  if (asked === undefined) return [...scope];
  const outside = asked.filter((id) => !scope.includes(id));
  if (outside.length || !asked.length) throw new ForbiddenError('a practice can only assign its own organisations');
  return [...new Set(asked)];
}

/**
 * The organisations after a change: a confined actor changes only its own among them (the
 * record's other organisations stay), and must leave at least one of its own (or lose the record).
 */
export function organisationsAfterChange(actor: Actor, current: readonly string[], asked: readonly string[]): string[] {
  const scope = confinement(actor);
  if (scope === 'all') return [...new Set(asked)];
  if (asked.some((id) => !scope.includes(id))) throw new ForbiddenError('a practice can only assign its own organisations');
  if (!asked.length) throw new OperationError('invalid_input', 'keep at least one of your organisations', [{ field: 'organisations', message: 'empty' }]);
  return [...new Set([...current.filter((id) => !scope.includes(id)), ...asked])];
}
