// Invitations (Mijn Therapie Dossier: "Zodra een account aangemaakt is ontvang je een e-mail met
// hierin je gebruikersnaam en een link"). A practice invites a patient: the account is created
// without a password (or an existing one without a password is used), and a mail carries a
// single-use link to the activation flow (flows/activation/), valid policy.activation.linkTtlSeconds
// (default 72 h).
//
// The link's token is `<id>.<secret>`: the id finds the stored invitation, the secret proves the
// link. Only SHA-256 of the secret is stored (a credential of type `invitation` on the account; 32
// random bytes need no salt or slow hash), compared in constant time; accepting it is a
// compare-and-swap, so two tabs or two processes cannot both use one link. A new invitation (a
// resend) removes the previous one: only the newest link works. An account that has a password is
// refused: an invitation must never become a way to set someone's password without knowing it.
// Nor one that has a second factor or recovery codes (a first login with a temporary password may
// leave one behind): activating it would set the password without that factor, which only a
// recovery (flows/recovery, which asks for the factor) may do. A link is bound to the address it
// was mailed to: once an operator corrects the address, the link sent to the old one is worthless.
import type { Services } from '../services.ts';
import type { AccountRecord, CredentialRecord } from '../store/port.ts';
import { policyFromMetadata, type PortalPolicy } from '../oidc/client-policy.ts';
import { normalisePhone } from '../delivery/phone.ts';
import { validateNewAccount } from './accounts.ts';
import { randomId, safeEqual, sha256 } from './random.ts';
import { mailInvitation } from './invitation-mail.ts';
import { isInternalClient } from '../oidc/internal-clients.ts';

export const INVITATION = 'invitation';
const MAX_TOKEN = 200;

export type InvitationProblem =
  | 'username_invalid' | 'email_invalid' | 'phone_invalid' | 'username_taken' | 'email_taken'
  | 'has_password' | 'has_factors' | 'no_email' | 'unknown_portal' | 'unknown_account' | 'mail_failed';

/** Why an invitation was refused; the message is for operators (CLI, API), never shown to a patient. */
export class InvitationError extends Error {
  constructor(readonly problem: InvitationProblem, message: string) {
    super(message);
    this.name = 'InvitationError';
  }
}

/** Who invites, for the audit trail. */
export interface InvitationActor {
  actor: string;
  ip?: string | null;
  userAgent?: string | null;
}

export interface InviteRequest extends InvitationActor {
  username: string;
  email: string;
  phone?: string;
  givenName?: string;
  familyName?: string;
  locale?: 'nl' | 'en';
  /** The portal the patient is invited to: its sender, name, and where activation ends. */
  clientId?: string;
}

interface InvitationData extends Record<string, unknown> {
  hash: string;
  /** addressHash of the address the link was mailed to. */
  address: string;
  expiresAt: number;
  clientId: string | null;
  usedAt: number | null;
}

/** What a link is: usable (not yet accepted), or why not. Never says whether an account exists. */
export type LinkState =
  | { ok: true; account: AccountRecord; clientId: string | null; credential: CredentialRecord }
  | { ok: false; reason: 'invalid' | 'expired' | 'used'; accountId?: string; clientId?: string | null };

/** The settings key holding SHA-256 of the address the last invitation went to. */
const INVITED_ADDRESS = 'invitedAddress';

const addressHash = (email: string) => sha256(`invited:${email.trim().toLowerCase()}`);

/**
 * Whether the account's address is the one an invitation was mailed to (the recovery may then mail
 * its link there before the address is verified). Pure: read from the account record.
 */
export function invitedAddress(account: AccountRecord): boolean {
  const stored = account.settings[INVITED_ADDRESS];
  return typeof stored === 'string' && account.email !== '' && safeEqual(stored, addressHash(account.email));
}

function dataOf(credential: CredentialRecord): InvitationData | undefined {
  const d = credential.data;
  if (typeof d.hash !== 'string' || typeof d.expiresAt !== 'number' || typeof d.address !== 'string') return undefined;
  return { hash: d.hash, address: d.address, expiresAt: d.expiresAt, clientId: typeof d.clientId === 'string' ? d.clientId : null, usedAt: typeof d.usedAt === 'number' ? d.usedAt : null };
}

/** Whether the account has a second factor or recovery codes (the factors know: bootstrap.ts passes their registry's answer). */
export type SecondFactorCheck = (services: Services, account: AccountRecord) => Promise<boolean>;

export class Invitations {
  constructor(
    private readonly services: () => Services,
    private readonly hasSecondFactors: SecondFactorCheck,
  ) {}

  /** Refuses an account an invitation must not reach: one with a password or a second factor. */
  private async refuseSetUp(account: AccountRecord): Promise<void> {
    const services = this.services();
    if (await services.passwords.has(account)) throw new InvitationError('has_password', `user ${account.username} already has a password: use a password reset instead`);
    if (await this.hasSecondFactors(services, account)) throw new InvitationError('has_factors', `user ${account.username} already has a second factor: use a password reset (recovery), which asks for it`);
  }

  /** The portal's policy, or an InvitationError when the id names none. */
  async portal(clientId: string | null | undefined): Promise<PortalPolicy | undefined> {
    if (!clientId) return undefined;
    // The account pages and the console are no portal to be invited to (their logins hold more).
    if (isInternalClient(clientId)) throw new InvitationError('unknown_portal', `no portal ${clientId}`);
    const client = await this.services().store.clients.find(clientId);
    if (!client) throw new InvitationError('unknown_portal', `no portal ${clientId}`);
    return policyFromMetadata(client.metadata);
  }

  /**
   * Creates the account without a password when the username is new, or uses the existing one
   * when it has none; then mails the invitation. Checked before anything is written.
   */
  async invite(request: InviteRequest): Promise<{ account: AccountRecord; created: boolean; expiresAt: number }> {
    const services = this.services();
    const username = request.username.normalize('NFKC').trim();
    const email = request.email.trim();
    const portal = await this.portal(request.clientId);
    const phone = request.phone === undefined ? undefined : normalisePhone(request.phone);
    if (request.phone !== undefined && (!phone || !phone.personal)) throw new InvitationError('phone_invalid', 'the phone number is not a valid personal phone number');
    const existing = await services.accounts.findByLogin(username);
    let account: AccountRecord;
    let created = false;
    if (existing && existing.username === username) {
      await this.refuseSetUp(existing);
      account = existing;
      const changes: Partial<AccountRecord> = {};
      if (email && email !== existing.email) {
        const holder = await services.accounts.findByLogin(email);
        if (holder && holder.id !== existing.id) throw new InvitationError('email_taken', `e-mail address ${email} is taken`);
        Object.assign(changes, { email, emailVerified: false });
      }
      if (Object.keys(changes).length) account = await services.accounts.update(account, changes);
      if (phone && services.accounts.phoneOf(account) !== phone.e164) account = await services.accounts.setPhone(account, phone.e164, false);
    } else {
      if (existing) throw new InvitationError('username_taken', `username ${username} is taken`);
      const input = { username, email, givenName: request.givenName?.trim() || null, familyName: request.familyName?.trim() || null, locale: request.locale ?? 'nl' };
      const problems = validateNewAccount(input);
      if (problems.length) throw new InvitationError(problems[0]!, problems[0] === 'username_invalid' ? 'the username must be 3-64 letters, digits or . _ @ + -' : 'the e-mail address is not valid');
      if (await services.accounts.findByLogin(email)) throw new InvitationError('email_taken', `e-mail address ${email} is taken`);
      account = await services.accounts.create({ ...input, phoneE164: phone?.e164 ?? null });
      created = true;
    }
    const sent = await this.send(account, portal, request, 'sent');
    return { account, created, expiresAt: sent.expiresAt };
  }

  /** Sends a new link for the account's last invitation (its portal); the previous link stops working. */
  async resend(accountId: string, who: InvitationActor, clientId?: string | null): Promise<{ account: AccountRecord; expiresAt: number }> {
    const services = this.services();
    const account = await services.accounts.findById(accountId);
    if (!account) throw new InvitationError('unknown_account', 'no such account');
    const [previous] = await services.store.credentials.listByAccount(account.id, INVITATION);
    const portalId = clientId !== undefined ? clientId : (previous ? dataOf(previous)?.clientId : null);
    const sent = await this.send(account, await this.portal(portalId), who, 'resent');
    return { account, expiresAt: sent.expiresAt };
  }

  /**
   * Stores a new link (removing any earlier one) and mails it. The mail goes first: a failed
   * delivery leaves the earlier link working and nothing new stored.
   */
  async send(account: AccountRecord, portal: PortalPolicy | undefined, who: InvitationActor, outcome: 'sent' | 'resent'): Promise<{ expiresAt: number }> {
    const services = this.services();
    if (!account.email) throw new InvitationError('no_email', `user ${account.username} has no e-mail address`);
    await this.refuseSetUp(account);
    const id = randomId(16);
    const secret = randomId(32);
    const now = services.clock.now();
    const expiresAt = now + services.config.policy.activation.linkTtlSeconds * 1000;
    try {
      await mailInvitation(services, account, { token: `${id}.${secret}`, expiresAt, portal });
    } catch (error) {
      await this.audit(account, portal?.clientId ?? null, who, 'invitation.mail_failed', { outcome: 'mail_failed' });
      throw new InvitationError('mail_failed', `the invitation to ${account.username} could not be mailed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const data: InvitationData = { hash: sha256(secret), address: addressHash(account.email), expiresAt, clientId: portal?.clientId ?? null, usedAt: null };
    await services.store.credentials.removeByAccount(account.id, INVITATION);
    await services.store.credentials.put({ id, accountId: account.id, type: INVITATION, data, createdAt: now, lastUsedAt: null });
    // An activation started from an earlier link ends too: only the newest link's flow may set the password.
    await services.store.flows.removeByAccount(account.id);
    if (account.settings[INVITED_ADDRESS] !== addressHash(account.email)) {
      await services.accounts.update(account, { settings: { ...account.settings, [INVITED_ADDRESS]: addressHash(account.email) } });
    }
    await this.audit(account, data.clientId, who, `invitation.${outcome}`, { outcome, expires_at: new Date(expiresAt).toISOString() });
    return { expiresAt };
  }

  /** Whether the account was invited before (a new invitation is then a resend). */
  async hasInvitation(accountId: string): Promise<boolean> {
    return (await this.services().store.credentials.listByAccount(accountId, INVITATION)).length > 0;
  }

  /** What the link is now, without using it (the page before "Volgende"). */
  async check(token: string): Promise<LinkState> {
    const services = this.services();
    const [id, secret] = token.slice(0, MAX_TOKEN).split('.');
    if (!id || !secret) return { ok: false, reason: 'invalid' };
    const credential = await services.store.credentials.findById(id);
    const data = credential?.type === INVITATION ? dataOf(credential) : undefined;
    // Hashed either way, so a wrong id costs what a wrong secret does.
    const matches = safeEqual(data?.hash ?? sha256(`none:${id}`), sha256(secret));
    if (!credential || !data || !matches) return { ok: false, reason: 'invalid' };
    if (data.usedAt !== null) return { ok: false, reason: 'used', accountId: credential.accountId, clientId: data.clientId };
    if (data.expiresAt <= services.clock.now()) return { ok: false, reason: 'expired', accountId: credential.accountId, clientId: data.clientId };
    const account = await services.accounts.findById(credential.accountId);
    if (!account || account.status !== 'active') return { ok: false, reason: 'invalid' };
    // Mailed to another address than the account has now (an operator corrected a typo): worthless.
    if (!safeEqual(data.address, addressHash(account.email))) return { ok: false, reason: 'invalid' };
    return { ok: true, account, clientId: data.clientId, credential };
  }

  /**
   * Uses the link: once only (compare-and-swap on the stored invitation), and only while the
   * account still has no password. The mailbox is proved: the address is marked verified.
   */
  async accept(token: string, who: InvitationActor): Promise<LinkState> {
    const services = this.services();
    const state = await this.check(token);
    if (!state.ok) {
      if (state.reason === 'expired' && state.accountId) {
        const account = await services.accounts.findById(state.accountId);
        if (account) await this.audit(account, state.clientId ?? null, who, 'invitation.expired', { outcome: 'expired' });
      }
      return state;
    }
    const { credential, account } = state;
    const data = dataOf(credential)!;
    const used = await services.store.credentials.compareAndSwap(credential.id, credential.data, { ...data, usedAt: services.clock.now() }, services.clock.now());
    if (!used) return { ok: false, reason: 'used', accountId: account.id, clientId: data.clientId };
    if (await services.passwords.has(account) || await this.hasSecondFactors(services, account)) return { ok: false, reason: 'used', accountId: account.id, clientId: data.clientId };
    const verified = account.emailVerified ? account : await services.accounts.update(account, { emailVerified: true });
    await this.audit(verified, data.clientId, who, 'invitation.accepted', { outcome: 'accepted' });
    return { ok: true, account: verified, clientId: data.clientId, credential };
  }

  private audit(account: AccountRecord, clientId: string | null, who: InvitationActor, type: string, detail: Record<string, unknown>): Promise<void> {
    return this.services().audit.record({ type, accountId: account.id, clientId, actor: who.actor, ip: who.ip ?? null, userAgent: who.userAgent ?? null, detail });
  }
}
