// The one set of admin operations the CLI, the console and the API call (issue 13): each takes an
// actor and validated input, checks authorisation itself, audits, and returns plain data.
import type { AdminDeps } from './context.ts';
import { PortalOperations } from './portals.ts';
import { AccountOperations } from './accounts.ts';
import { AccountSecurityOperations } from './account-security.ts';
import { AuditLogOperations } from './audit-log.ts';
import { OrganisationOperations } from './organisations.ts';
import { AdminRoleOperations } from './admins.ts';
import { RegistrationOperations } from './registration.ts';

export interface AdminOperations {
  portals: PortalOperations;
  accounts: AccountOperations;
  accountSecurity: AccountSecurityOperations;
  audit: AuditLogOperations;
  organisations: OrganisationOperations;
  admins: AdminRoleOperations;
  registration: RegistrationOperations;
}

export function createAdminOperations(deps: AdminDeps): AdminOperations {
  const accounts = new AccountOperations(deps);
  return {
    portals: new PortalOperations(deps),
    accounts,
    accountSecurity: new AccountSecurityOperations(deps, accounts),
    audit: new AuditLogOperations(deps, accounts),
    organisations: new OrganisationOperations(deps),
    admins: new AdminRoleOperations(deps),
    registration: new RegistrationOperations(deps),
  };
}

export type { Actor, AdminScope, Origin } from './actor.ts';
export { ADMIN_SCOPES, adminActor, auditActor } from './actor.ts';
export type { AdminDeps, Invitations, RegistrationTokens } from './context.ts';
export { adminDeps } from './context.ts';
export { OperationError } from './errors.ts';
export { ForbiddenError } from './access.ts';
export { Cursors } from './cursor.ts';
