// Organisations (practices): operators create and remove them; accounts and portals belong to
// one or more, and a `practice` admin sees only those of its own.
import { DuplicateError } from '../../store/port.ts';
import type { Actor } from './actor.ts';
import { requirePermission } from './access.ts';
import { recordAdminEvent, type AdminDeps } from './context.ts';
import { OperationError, notFound } from './errors.ts';
import { OrganisationCreate } from './schemas.ts';
import { parseInput } from './validate.ts';

export interface OrganisationView {
  id: string;
  name: string;
  created_at: string;
}

export async function requireOrganisationsExist(deps: AdminDeps, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    if (!(await deps.services.store.organisations.find(id))) {
      throw new OperationError('invalid_input', `no organisation ${id}`, [{ field: 'organisations', message: `no organisation ${id}` }]);
    }
  }
}

export class OrganisationOperations {
  constructor(private readonly deps: AdminDeps) {}

  async add(actor: Actor, body: unknown): Promise<OrganisationView> {
    requirePermission(actor, 'organisations:write');
    const input = parseInput(OrganisationCreate, body);
    const now = this.deps.services.clock.now();
    try {
      await this.deps.services.store.organisations.create({ id: input.id, name: input.name, createdAt: now, updatedAt: now });
    } catch (error) {
      if (error instanceof DuplicateError) throw new OperationError('conflict', `organisation ${input.id} exists already`);
      throw error;
    }
    await recordAdminEvent(this.deps, actor, { type: 'admin.organisation.added', outcome: 'added', detail: { organisation: input.id } });
    return { id: input.id, name: input.name, created_at: new Date(now).toISOString() };
  }

  /** Operators see every organisation; others only their own. */
  async list(actor: Actor): Promise<OrganisationView[]> {
    const all = await this.deps.services.store.organisations.list();
    const own = actor.kind === 'admin' && actor.role !== 'operator' ? actor.organisations : actor.kind === 'api' && actor.organisations.length ? actor.organisations : undefined;
    return all.filter((o) => !own || own.includes(o.id)).map((o) => ({ id: o.id, name: o.name, created_at: new Date(o.createdAt).toISOString() }));
  }

  /** Its memberships go with it; accounts and portals stay (they may belong to no organisation). */
  async remove(actor: Actor, id: string): Promise<void> {
    requirePermission(actor, 'organisations:write');
    if (!(await this.deps.services.store.organisations.remove(id))) throw notFound(`organisation ${id}`);
    await recordAdminEvent(this.deps, actor, { type: 'admin.organisation.removed', outcome: 'removed', detail: { organisation: id } });
  }
}
