// Patient accounts: search (cursor paging), read, create without a password, change (If-Match),
// and the account's audit trail. What an admin does to an account's security (temporary password,
// disable, unlock, reset 2FA, revoke sessions, invite) is in account-security.ts.
import { validateNewAccount } from '../../accounts/accounts.ts';
import { deliverSecurityNotice, type SecurityNotice } from '../../accounts/security-notices.ts';
import { maskMail, normalisePhone } from '../../delivery/index.ts';
import { maskPhone } from '../../log.ts';
import { DuplicateError, type AccountRecord } from '../../store/port.ts';
import { confinement, type Actor } from './actor.ts';
import { organisationsAfterChange, organisationsForNew, requirePermission, requireReach } from './access.ts';
import { recordAdminEvent, type AdminDeps } from './context.ts';
import { OperationError, notFound } from './errors.ts';
import { checkIfMatch, etagOf } from './etag.ts';
import { requireOrganisationsExist } from './organisations.ts';
import { AccountCreate, AccountQuery, AccountUpdate } from './schemas.ts';
import { parseInput } from './validate.ts';

export interface AccountView {
  id: string;
  username: string;
  email: string;
  email_verified: boolean;
  phone: string | null;
  phone_verified: boolean;
  given_name: string | null;
  family_name: string | null;
  locale: string;
  status: AccountRecord['status'];
  required_actions: string[];
  organisations: string[];
  created_at: string;
  updated_at: string;
}

export function accountView(account: AccountRecord, organisations: string[]): AccountView {
  return {
    id: account.id,
    username: account.username,
    email: account.email,
    email_verified: account.emailVerified,
    phone: account.phoneHint ? maskPhone(account.phoneHint) : null,
    phone_verified: account.phoneVerified,
    given_name: account.givenName,
    family_name: account.familyName,
    locale: account.locale,
    status: account.status,
    required_actions: [...account.requiredActions],
    organisations,
    created_at: new Date(account.createdAt).toISOString(),
    updated_at: new Date(account.updatedAt).toISOString(),
  };
}

function phoneOrRefuse(value: string): string {
  const phone = normalisePhone(value);
  if (!phone) throw new OperationError('invalid_input', 'not a valid phone number (e.g. 06 12345678)', [{ field: 'phone', message: 'invalid' }]);
  if (!phone.personal) throw new OperationError('invalid_input', 'a paid or service number is not a personal phone: codes are never sent to it', [{ field: 'phone', message: 'not personal' }]);
  return phone.e164;
}

export class AccountOperations {
  constructor(private readonly deps: AdminDeps) {}

  private get services() {
    return this.deps.services;
  }

  /** The account if the actor may see it (its organisations), with them; absent otherwise. */
  async load(actor: Actor, accountId: string): Promise<{ account: AccountRecord; organisations: string[] }> {
    const account = await this.services.store.accounts.findById(accountId);
    if (!account) throw notFound(`account ${accountId}`);
    const organisations = await this.services.store.organisations.memberships('account', accountId);
    requireReach(actor, organisations, `account ${accountId}`);
    return { account, organisations };
  }

  /**
   * An account to change. A confined admin (practice, an API client in organisations) changes no
   * account that holds an admin role: resetting an operator's second factors or disabling a
   * colleague would be a way up (review of the console, finding 2). Shown as not found, as an
   * account of another organisation is. Operators and the CLI change them.
   */
  async loadForChange(actor: Actor, accountId: string): Promise<{ account: AccountRecord; organisations: string[] }> {
    const loaded = await this.load(actor, accountId);
    if (confinement(actor) !== 'all' && await this.services.store.adminGrants.find(accountId)) throw notFound(`account ${accountId}`);
    return loaded;
  }

  /** By username or e-mail address, for the CLI (which names accounts that way). */
  async idOf(actor: Actor, login: string): Promise<string> {
    const account = await this.services.accounts.findByLogin(login);
    if (!account) throw notFound(`user ${login}`);
    await this.load(actor, account.id);
    return account.id;
  }

  async search(actor: Actor, query: unknown): Promise<{ items: AccountView[]; next_cursor: string | null }> {
    requirePermission(actor, 'accounts:read');
    const input = parseInput(AccountQuery, query);
    const scope = confinement(actor);
    let organisations: readonly string[] | undefined = scope === 'all' ? undefined : scope;
    if (input.organisation) organisations = organisations ? organisations.filter((id) => id === input.organisation) : [input.organisation];
    const bound = { q: input.q ?? null, organisations: organisations ?? null };
    let after: { username: string; id: string } | undefined;
    if (input.cursor) {
      const position = this.deps.cursors.open('accounts', bound, input.cursor);
      if (typeof position.u !== 'string' || typeof position.i !== 'string') throw new OperationError('invalid_input', 'invalid cursor', [{ field: 'cursor', message: 'invalid cursor' }]);
      after = { username: position.u, id: position.i };
    }
    const found = await this.services.store.accounts.search({ text: input.q || undefined, organisations, after, limit: input.limit + 1 });
    const page = found.slice(0, input.limit);
    const last = page.at(-1);
    const items = await Promise.all(page.map(async (a) => accountView(a, await this.services.store.organisations.memberships('account', a.id))));
    return { items, next_cursor: found.length > input.limit && last ? this.deps.cursors.sign('accounts', bound, { u: last.username, i: last.id }) : null };
  }

  async get(actor: Actor, accountId: string): Promise<{ account: AccountView; etag: string }> {
    requirePermission(actor, 'accounts:read');
    const { account, organisations } = await this.load(actor, accountId);
    const view = accountView(account, organisations);
    return { account: view, etag: etagOf(view) };
  }

  /**
   * An account without a password: the patient gets one through an invitation (activation flow)
   * or a temporary password; until then nobody can sign in with it.
   */
  async create(actor: Actor, body: unknown): Promise<{ account: AccountView; etag: string }> {
    requirePermission(actor, 'accounts:write');
    const input = parseInput(AccountCreate, body);
    const username = input.username.normalize('NFKC').trim();
    const problems = validateNewAccount({ username, email: input.email });
    if (problems.length) throw new OperationError('invalid_input', 'the username or e-mail address is not valid', problems.map((p) => ({ field: p === 'username_invalid' ? 'username' : 'email', message: 'invalid' })));
    const phone = input.phone === undefined ? null : phoneOrRefuse(input.phone);
    const organisations = organisationsForNew(actor, input.organisations);
    await requireOrganisationsExist(this.deps, organisations);
    if (await this.services.accounts.findByLogin(username)) throw new OperationError('conflict', `username ${username} is taken`);
    if (await this.services.accounts.findByLogin(input.email)) throw new OperationError('conflict', 'that e-mail address is taken');
    let account: AccountRecord;
    try {
      account = await this.services.accounts.create({
        username, email: input.email, phoneE164: phone, givenName: input.given_name || null, familyName: input.family_name || null, locale: input.locale,
      });
    } catch (error) {
      if (error instanceof DuplicateError) throw new OperationError('conflict', `${error.field} is taken`);
      throw error;
    }
    await this.services.store.organisations.setMemberships('account', account.id, organisations);
    await recordAdminEvent(this.deps, actor, { type: 'admin.user.added', outcome: 'added', accountId: account.id, detail: { organisations, password: 'none' } });
    return this.get(actor, account.id);
  }

  /**
   * Changes contact details, names, language and organisations. A changed e-mail address or phone
   * number must be verified again, and the patient is told on the channel they had.
   */
  async update(actor: Actor, accountId: string, body: unknown, ifMatch?: string): Promise<{ account: AccountView; etag: string; changed: string[]; noticesSent: string[] }> {
    requirePermission(actor, 'accounts:write');
    const input = parseInput(AccountUpdate, body);
    const { account: before, organisations } = await this.loadForChange(actor, accountId);
    checkIfMatch(ifMatch, etagOf(accountView(before, organisations)));
    const changes: Partial<AccountRecord> = {};
    if (input.email !== undefined && input.email !== before.email) {
      const holder = await this.services.accounts.findByLogin(input.email);
      if (holder && holder.id !== before.id) throw new OperationError('conflict', 'that e-mail address is taken');
      Object.assign(changes, { email: input.email, emailVerified: false });
    }
    let phoneChanged = false;
    if (input.phone !== undefined) {
      const phone = input.phone === null ? null : phoneOrRefuse(input.phone);
      if (phone !== this.services.accounts.phoneOf(before)) {
        Object.assign(changes, this.services.accounts.sealedPhone(before.id, phone, false));
        phoneChanged = true;
      }
    }
    for (const [field, key] of [['given_name', 'givenName'], ['family_name', 'familyName']] as const) {
      const value = input[field];
      if (value === undefined) continue;
      const next = value === null ? null : value.normalize('NFC').trim() || null;
      if (next !== before[key]) changes[key] = next;
    }
    if (input.locale && input.locale !== before.locale) changes.locale = input.locale;
    let nextOrganisations = organisations;
    if (input.organisations) {
      nextOrganisations = organisationsAfterChange(actor, organisations, input.organisations);
      await requireOrganisationsExist(this.deps, nextOrganisations);
    }
    const organisationsChanged = nextOrganisations.join(',') !== organisations.join(',');
    const changed = [
      ...Object.keys(changes).filter((key) => !['emailVerified', 'phoneHint', 'phoneVerified'].includes(key)).map((key) => (key === 'phoneEncrypted' ? 'phone' : key)),
      ...(organisationsChanged ? ['organisations'] : []),
    ];
    const after = Object.keys(changes).length ? await this.services.accounts.update(before, changes) : before;
    if (organisationsChanged) await this.services.store.organisations.setMemberships('account', accountId, nextOrganisations);
    const noticesSent: string[] = [];
    if (changed.length) {
      await recordAdminEvent(this.deps, actor, { type: 'admin.user.updated', outcome: 'updated', accountId, detail: { changed } });
      const notices: SecurityNotice[] = [
        ...(changes.email !== undefined ? [{ kind: 'email_changed', previousEmail: before.email, byOperator: true } as const] : []),
        ...(phoneChanged ? [{ kind: 'phone_changed', byOperator: true } as const] : []),
      ];
      for (const notice of notices) {
        if (await this.tell({ ...after, email: before.email }, notice)) noticesSent.push(notice.kind);
      }
    }
    const { account, etag } = await this.get(actor, accountId);
    return { account, etag, changed, noticesSent };
  }

  /** Sends a security notice and audits the outcome; false when it could not be sent. */
  async tell(account: AccountRecord, notice: SecurityNotice): Promise<boolean> {
    const detail = { kind: notice.kind, to: maskMail(notice.kind === 'email_changed' ? notice.previousEmail ?? '' : account.email) };
    try {
      await deliverSecurityNotice(this.services, account, notice);
      await this.services.audit.record({ type: 'notice.sent', accountId: account.id, detail });
      return true;
    } catch {
      await this.services.audit.record({ type: 'notice.failed', accountId: account.id, detail });
      return false;
    }
  }
}
