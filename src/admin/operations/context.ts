// What the admin operations are built on: the application's services, the client registry (it
// needs the oidc-provider instance that validates metadata), the cursor signer, and the services
// other parts provide when they exist (invitations: the activation flow; initial access tokens:
// dynamic client registration). One `AdminOperations` serves the CLI, the console and the API.
import type { Services } from '../../services.ts';
import type { ClientRegistry } from '../../oidc/client-registry.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { PortalSender } from '../../accounts/temporary-password-mail.ts';
import type { LifecycleActor } from '../../accounts/password-lifecycle.ts';
import { Cursors } from './cursor.ts';
import { auditActor, onBehalfOf, type Actor } from './actor.ts';

/**
 * The activation flow's invitation: a mail with a limited-time link to set up the account
 * (Mijn Therapie Dossier). Provided by admin/invitations-adapter.ts (the server and the CLI);
 * without one, `invite` answers 501.
 */
export interface Invitations {
  invite(account: AccountRecord, portal: PortalSender | undefined, who: LifecycleActor): Promise<{ expiresAt: number }>;
}

/** Initial access tokens for dynamic client registration (RFC 7591), minted by operators. */
export interface RegistrationTokens {
  mint(expiresInSeconds: number): Promise<{ token: string; expiresAt: number }>;
}

export interface AdminDeps {
  services: Services;
  clients(): Promise<ClientRegistry>;
  cursors: Cursors;
  invitations?: Invitations;
  registrationTokens?: RegistrationTokens;
}

/** The deps of a process: its services and registry; invitations and registration tokens where they exist. */
export function adminDeps(services: Services, clients: () => Promise<ClientRegistry>, extra: Pick<AdminDeps, 'invitations' | 'registrationTokens'> = {}): AdminDeps {
  return { services, clients, cursors: new Cursors(services.config.secretsKey), ...extra };
}

export interface AuditEntryInput {
  type: string;
  outcome: string;
  accountId?: string | null;
  clientId?: string | null;
  detail?: Record<string, unknown>;
}

/** Every admin change is audited here, with who (and on whose behalf), from where, and the outcome. */
export async function recordAdminEvent(deps: AdminDeps, actor: Actor, entry: AuditEntryInput): Promise<void> {
  const via = actor.kind === 'cli' ? 'cli' : actor.kind === 'admin' ? 'console' : 'api';
  await deps.services.audit.record({
    type: entry.type,
    accountId: entry.accountId ?? null,
    clientId: entry.clientId ?? null,
    actor: auditActor(actor),
    ip: actor.kind === 'cli' ? null : actor.ip ?? null,
    userAgent: actor.kind === 'cli' ? null : actor.userAgent ?? null,
    detail: { ...entry.detail, outcome: entry.outcome, via, on_behalf_of: onBehalfOf(actor) },
  });
}

/** The password lifecycle's view of the actor (it audits on its own). */
export function lifecycleActor(actor: Actor, clientId: string | null): LifecycleActor {
  return { actor: auditActor(actor), ip: actor.kind === 'cli' ? null : actor.ip ?? null, userAgent: actor.kind === 'cli' ? null : actor.userAgent ?? null, clientId };
}
