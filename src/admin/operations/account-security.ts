// What an admin does to an account's security: a temporary password, disable/enable, unlock,
// reset the second factors, end every sign-in, and invite (the activation flow).
import type { PortalSender } from '../../accounts/temporary-password-mail.ts';
import type { LockStatus } from '../../accounts/lockout.ts';
import { maskMail } from '../../delivery/index.ts';
import { allFactors } from '../../factors/registry.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';
import type { Actor } from './actor.ts';
import { requirePermission, requireReach } from './access.ts';
import type { AccountOperations } from './accounts.ts';
import { lifecycleActor, recordAdminEvent, type AdminDeps } from './context.ts';
import { OperationError } from './errors.ts';
import { PortalChoice } from './schemas.ts';
import { parseInput } from './validate.ts';

/** The required action that makes the next login set up a second factor. */
const ENROL_SECOND_FACTOR = 'enrol-second-factor';

export function lockView(lock: LockStatus) {
  return { state: lock.state, locked_until: lock.lockedUntil === null ? null : new Date(lock.lockedUntil).toISOString(), failures: lock.failures, locks: lock.locks };
}

export class AccountSecurityOperations {
  constructor(
    private readonly deps: AdminDeps,
    private readonly accounts: AccountOperations,
  ) {}

  private get services() {
    return this.deps.services;
  }

  /** The portal a mail is for: within the actor's reach, its name, sender and login address. */
  private async portal(actor: Actor, clientId: string | undefined): Promise<PortalSender | undefined> {
    if (clientId === undefined) return undefined;
    const client = await this.services.store.clients.find(clientId);
    if (!client) throw new OperationError('invalid_input', `no portal ${clientId}`, [{ field: 'client_id', message: 'unknown portal' }]);
    requireReach(actor, await this.services.store.organisations.memberships('client', clientId), `portal ${clientId}`);
    const policy = policyFromMetadata(client.metadata);
    return { clientId, name: policy.name, ...(policy.homeUrl ? { loginUrl: policy.homeUrl } : {}), ...(policy.mailFrom ? { mailFrom: policy.mailFrom } : {}) };
  }

  /** Mails a temporary password (never shown to the admin); the patient's own keeps working. */
  async temporaryPassword(actor: Actor, accountId: string, body: unknown = {}): Promise<{ sentTo: string; expiresAt: number; clientId: string | null }> {
    requirePermission(actor, 'accounts:write');
    const input = parseInput(PortalChoice, body);
    const { account } = await this.accounts.loadForChange(actor, accountId);
    if (!account.email) throw new OperationError('conflict', 'the account has no e-mail address');
    const portal = await this.portal(actor, input.client_id);
    try {
      const issued = await this.services.passwordLifecycle.issueTemporary(account, portal, lifecycleActor(actor, input.client_id ?? null));
      return { sentTo: maskMail(account.email), expiresAt: issued.expiresAt, clientId: input.client_id ?? null };
    } catch {
      throw new OperationError('delivery_failed', `the mail to ${maskMail(account.email)} could not be sent; no temporary password was set`);
    }
  }

  /**
   * Sends (or sends again) the activation invitation (accounts/invitations.ts through
   * admin/invitations-adapter.ts; the link opens flows/activation/). A process built without an
   * `Invitations` service answers `invitation_unavailable` (501).
   */
  async invite(actor: Actor, accountId: string, body: unknown = {}): Promise<{ sentTo: string; expiresAt: number }> {
    requirePermission(actor, 'accounts:write');
    const input = parseInput(PortalChoice, body);
    const { account } = await this.accounts.loadForChange(actor, accountId);
    const invitations = this.deps.invitations;
    if (!invitations) throw new OperationError('invitation_unavailable', 'invitations are not available in this version: use a temporary password');
    const portal = await this.portal(actor, input.client_id);
    const sent = await invitations.invite(account, portal, lifecycleActor(actor, input.client_id ?? null));
    await recordAdminEvent(this.deps, actor, { type: 'admin.user.invited', outcome: 'sent', accountId, clientId: input.client_id ?? null });
    return { sentTo: maskMail(account.email), expiresAt: sent.expiresAt };
  }

  /** Disabled: no sign-in, no userinfo, no refresh (access tokens run out). */
  async setStatus(actor: Actor, accountId: string, status: 'active' | 'disabled'): Promise<{ outcome: 'disabled' | 'enabled' | 'unchanged' }> {
    requirePermission(actor, 'accounts:write');
    const { account } = await this.accounts.loadForChange(actor, accountId);
    const name = status === 'disabled' ? 'disabled' : 'enabled';
    if (account.status === status) {
      await recordAdminEvent(this.deps, actor, { type: `admin.user.${name}`, outcome: 'unchanged', accountId });
      return { outcome: 'unchanged' };
    }
    await this.services.accounts.setStatus(account, status);
    // A disabled account's flows end too: logins in progress, an activation's hand-off, a console.
    if (status === 'disabled') await this.services.store.flows.removeByAccount(account.id);
    await recordAdminEvent(this.deps, actor, { type: `admin.user.${name}`, outcome: name, accountId });
    return { outcome: name };
  }

  /** Lifts a temporary or hard lock and starts the failure counts afresh. */
  async unlock(actor: Actor, accountId: string): Promise<{ outcome: 'unlocked' | 'not_locked'; was: ReturnType<typeof lockView>; lock: ReturnType<typeof lockView> }> {
    requirePermission(actor, 'accounts:write');
    const { account } = await this.accounts.loadForChange(actor, accountId);
    const before = await this.services.lockout.unlock(account);
    const after = await this.services.lockout.status(account);
    const outcome = before.state !== 'open' ? 'unlocked' : 'not_locked';
    await recordAdminEvent(this.deps, actor, { type: 'admin.user.unlocked', outcome, accountId, detail: { was: before.state, failures: before.failures } });
    return { outcome, was: lockView(before), lock: lockView(after) };
  }

  /**
   * Minddistrict's "practitioner resets 2FA": every second factor, recovery code, pending code and
   * remembered device goes, and every sign-in ends; `enrol-second-factor` is stored on the account
   * so the next login sets one up (after the password); the patient is told by mail.
   */
  async resetSecondFactors(actor: Actor, accountId: string): Promise<{ removed: string[]; noticeSent: boolean; revoked: number }> {
    requirePermission(actor, 'accounts:write');
    const { account } = await this.accounts.loadForChange(actor, accountId);
    const removed: string[] = [];
    for (const factor of allFactors().filter((f) => f.role !== 'first')) {
      if (await factor.isEnrolled(this.services, account)) removed.push(factor.id);
      await this.services.store.credentials.removeByAccount(account.id, factor.id);
    }
    await this.services.store.codes.removeByAccount(account.id);
    await this.services.devices.forgetAll(account.id);
    const { records: revoked } = await this.services.signIns.revokeSignIns(account.id);
    // Flows in progress may carry proofs of the factors just removed (a login, an activation's
    // hand-off): they end with them (review of the hand-off).
    await this.services.store.flows.removeByAccount(account.id);
    const after = account.requiredActions.includes(ENROL_SECOND_FACTOR)
      ? account
      : await this.services.accounts.update(account, { requiredActions: [...account.requiredActions, ENROL_SECOND_FACTOR] });
    await recordAdminEvent(this.deps, actor, { type: 'admin.user.mfa_reset', outcome: 'reset', accountId, detail: { removed, revoked, required_action: ENROL_SECOND_FACTOR } });
    const noticeSent = after.email ? await this.accounts.tell(after, { kind: 'second_factors_reset', byOperator: true }) : false;
    return { removed, noticeSent, revoked };
  }

  /** Ends every sign-in of the account: sessions, grants, codes, access and refresh tokens. */
  async revokeSessions(actor: Actor, accountId: string): Promise<{ revoked: number }> {
    requirePermission(actor, 'accounts:write');
    const { account } = await this.accounts.loadForChange(actor, accountId);
    const { records: revoked } = await this.services.signIns.revokeSignIns(account.id);
    await this.services.devices.forgetAll(account.id);
    // "Sign out everywhere" ends what is about to become a sign-in too: logins in progress, a hand-off, a console.
    await this.services.store.flows.removeByAccount(account.id);
    await recordAdminEvent(this.deps, actor, { type: 'admin.user.sessions_revoked', outcome: 'revoked', accountId, detail: { revoked } });
    return { revoked };
  }
}

