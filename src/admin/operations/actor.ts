// Who is asking. Every admin operation takes an actor and decides itself what it may do: the CLI,
// the console and the API never check permissions on their own, so the three cannot disagree.
import type { AdminGrantRecord, AdminRole } from '../../store/port.ts';

/** The admin API's scopes (client_credentials tokens carry them). */
import { ADMIN_API_SCOPES } from '../../oidc/admin-resource.ts';

/** The admin API's scopes: the resource server's own list. */
export const ADMIN_SCOPES = ADMIN_API_SCOPES;
export type AdminScope = (typeof ADMIN_SCOPES)[number];

/** Where the request came from, for the audit trail (NEN 7513: network address). */
export interface Origin {
  ip?: string | null;
  userAgent?: string | null;
}

export type Actor =
  /** An operator at a shell: everything (the machine's own access control decided). */
  | { kind: 'cli'; operator: string }
  /** An admin signed in to the console: their account, role and (for `practice`) organisations. */
  | ({ kind: 'admin'; accountId: string; username: string; role: AdminRole; organisations: readonly string[] } & Origin)
  /**
   * A machine with an admin API access token: the token's scopes; when its client belongs to
   * organisations, only those (as a `practice` admin would be), otherwise all of them.
   */
  | ({ kind: 'api'; clientId: string; scopes: readonly string[]; organisations: readonly string[] } & Origin);

/** What an operation needs; each maps to a role and an API scope below. */
export type Permission = 'portals:read' | 'portals:write' | 'accounts:read' | 'accounts:write' | 'audit:read' | 'organisations:write' | 'admins:write' | 'registration:mint';

const ROLE_PERMISSIONS: Record<AdminRole, readonly Permission[]> = {
  operator: ['portals:read', 'portals:write', 'accounts:read', 'accounts:write', 'audit:read', 'organisations:write', 'admins:write', 'registration:mint'],
  // A practice manages the accounts and portals of its own organisations; the trail of one of its
  // accounts is part of the account (accounts:read), the whole audit log is not.
  practice: ['portals:read', 'portals:write', 'accounts:read', 'accounts:write'],
  auditor: ['audit:read'],
};

const SCOPE_PERMISSIONS: Record<AdminScope, readonly Permission[]> = {
  'admin:clients': ['portals:read', 'portals:write', 'registration:mint'],
  'admin:accounts': ['accounts:read', 'accounts:write'],
  'admin:audit': ['audit:read'],
};

/** The scope an API client needs for `permission` (for `insufficient_scope`). */
export function scopeFor(permission: Permission): AdminScope | undefined {
  return ADMIN_SCOPES.find((scope) => SCOPE_PERMISSIONS[scope].includes(permission));
}

export function allows(actor: Actor, permission: Permission): boolean {
  switch (actor.kind) {
    case 'cli':
      return true;
    case 'admin':
      return ROLE_PERMISSIONS[actor.role].includes(permission);
    case 'api':
      // Organisations and admins are managed by operators only, never by a machine.
      return actor.scopes.some((scope) => (SCOPE_PERMISSIONS[scope as AdminScope] ?? []).includes(permission));
  }
}

/**
 * Which organisations the actor is confined to: `all` for operators, the CLI and API clients that
 * belong to no organisation; otherwise the list (possibly empty: then nothing is visible).
 */
export function confinement(actor: Actor): 'all' | readonly string[] {
  if (actor.kind === 'cli') return 'all';
  if (actor.kind === 'admin') return actor.role === 'practice' ? actor.organisations : 'all';
  return actor.organisations.length ? actor.organisations : 'all';
}

/** The audit trail's `actor`: stable ids, never a name that can change. */
export function auditActor(actor: Actor): string {
  switch (actor.kind) {
    case 'cli':
      return `operator:${actor.operator}`;
    case 'admin':
      return `admin:${actor.accountId}`;
    case 'api':
      return `api:${actor.clientId}`;
  }
}

/** NEN 7513's "on whose behalf": the organisations an actor confined to them acts for. */
export function onBehalfOf(actor: Actor): string[] | null {
  const scope = confinement(actor);
  return scope === 'all' ? null : [...scope];
}

/**
 * The actor of an admin signed in to the console. The console calls this with the account of its
 * login session (after the role's second factor) and that account's grant; no grant, no actor.
 */
export function adminActor(account: { id: string; username: string }, grant: AdminGrantRecord | undefined, origin: Origin = {}): Actor | undefined {
  if (!grant || grant.accountId !== account.id) return undefined;
  return { kind: 'admin', accountId: account.id, username: account.username, role: grant.role, organisations: [...grant.organisations], ...origin };
}
