// Admin roles: `operator` (everything), `practice` (accounts and portals of its organisations),
// `auditor` (reads the audit log, changes nothing). Granted and revoked by operators; audited.
import type { AdminGrantRecord } from '../../store/port.ts';
import { auditActor, type Actor } from './actor.ts';
import { requirePermission } from './access.ts';
import { recordAdminEvent, type AdminDeps } from './context.ts';
import { OperationError, notFound } from './errors.ts';
import { requireOrganisationsExist } from './organisations.ts';
import { AdminGrant } from './schemas.ts';
import { parseInput } from './validate.ts';
import { ADMIN_METHODS } from '../../oidc/admin-client.ts';

export interface AdminView {
  account_id: string;
  username: string | null;
  role: AdminGrantRecord['role'];
  organisations: string[];
  granted_at: string;
  granted_by: string;
}

export class AdminRoleOperations {
  constructor(private readonly deps: AdminDeps) {}

  async grant(actor: Actor, body: unknown): Promise<AdminView> {
    requirePermission(actor, 'admins:write');
    const input = parseInput(AdminGrant, body);
    const account = await this.deps.services.accounts.findByLogin(input.username);
    if (!account) throw notFound(`user ${input.username}`);
    if (input.role === 'practice' && !input.organisations.length) {
      throw new OperationError('invalid_input', 'a practice admin needs at least one organisation', [{ field: 'organisations', message: 'required for practice' }]);
    }
    if (input.role !== 'practice' && input.organisations.length) {
      throw new OperationError('invalid_input', `organisations are for practice admins only (an ${input.role} is not confined to any)`, [{ field: 'organisations', message: 'only for practice' }]);
    }
    await requireOrganisationsExist(this.deps, input.organisations);
    // The console takes only an app or passkey the admin held before the login (console-routes.ts).
    // An account without one would set it up in a login whose strongest proof is the password, a
    // mailbox or a SIM: a role goes only to an account that has one already.
    const credentials = await this.deps.services.store.credentials.listByAccount(account.id);
    if (!credentials.some((c) => (ADMIN_METHODS as readonly string[]).includes(c.type))) {
      throw new OperationError('conflict', `user ${input.username} has no authenticator app or passkey: admins sign in with one; let them set it up on /account first`);
    }
    const before = await this.deps.services.store.adminGrants.find(account.id);
    // A changed role or organisation list keeps the first grant's time: the console accepts only
    // methods held at that time, and a routine edit must not vouch for an app or passkey added
    // since (review: an intruder's passkey would open the console after the next edit). Vouching
    // for a new method is explicit: revoke, then grant.
    const grantedAt = before?.grantedAt ?? this.deps.services.clock.now();
    const grant: AdminGrantRecord = { accountId: account.id, role: input.role, organisations: [...new Set(input.organisations)], grantedAt, grantedBy: auditActor(actor) };
    await this.deps.services.store.adminGrants.put(grant);
    await recordAdminEvent(this.deps, actor, {
      type: 'admin.role.granted', outcome: before ? 'replaced' : 'granted', accountId: account.id,
      detail: { role: grant.role, organisations: grant.organisations, previous: before ? { role: before.role, organisations: before.organisations } : null },
    });
    return this.view(grant, account.username);
  }

  async revoke(actor: Actor, username: string): Promise<void> {
    requirePermission(actor, 'admins:write');
    const account = await this.deps.services.accounts.findByLogin(username);
    if (!account) throw notFound(`user ${username}`);
    const before = await this.deps.services.store.adminGrants.find(account.id);
    if (!before || !(await this.deps.services.store.adminGrants.remove(account.id))) throw notFound(`admin role of ${username}`);
    await recordAdminEvent(this.deps, actor, { type: 'admin.role.revoked', outcome: 'revoked', accountId: account.id, detail: { role: before.role, organisations: before.organisations } });
  }

  async list(actor: Actor): Promise<AdminView[]> {
    requirePermission(actor, 'admins:write');
    const grants = await this.deps.services.store.adminGrants.list();
    return Promise.all(grants.map(async (grant) => this.view(grant, (await this.deps.services.accounts.findById(grant.accountId))?.username ?? null)));
  }

  private view(grant: AdminGrantRecord, username: string | null): AdminView {
    return { account_id: grant.accountId, username, role: grant.role, organisations: grant.organisations, granted_at: new Date(grant.grantedAt).toISOString(), granted_by: grant.grantedBy };
  }
}
