// `poortwachter user show|update|temp-password|remove`: the operator side of the account lifecycle
// (issue 8). Every change is audited with the operator; nothing here prints or stores a password,
// and no command sets one the operator chooses (see `user --help`).
import { validateNewAccount } from '../../accounts/accounts.ts';
import { eraseAccount } from '../../accounts/erasure.ts';
import type { PortalSender } from '../../accounts/temporary-password-mail.ts';
import { deliverSecurityNotice, type SecurityNotice } from '../../accounts/security-notices.ts';
import { maskMail, normalisePhone } from '../../delivery/index.ts';
import { allFactors } from '../../factors/registry.ts';
import { maskPhone } from '../../log.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';
import type { AccountRecord } from '../../store/port.ts';
import type { Command } from './command.ts';
import type { CliContext } from './context.ts';
import { CliError, UsageError } from './errors.ts';
import { formatTime, table } from './output.ts';
import { findUser, lockJson, lockText, userJson } from './user-format.ts';
import { operatorActor } from './context.ts';

const LOCALES = ['nl', 'en'] as const;

async function portalSender(ctx: CliContext, clientId: string): Promise<PortalSender> {
  const client = await (await ctx.services()).store.clients.find(clientId);
  if (!client) throw new CliError(`no client ${clientId} (see: poortwachter client list)`);
  const policy = policyFromMetadata(client.metadata);
  return { clientId, name: policy.name, ...(policy.homeUrl ? { loginUrl: policy.homeUrl } : {}), ...(policy.mailFrom ? { mailFrom: policy.mailFrom } : {}) };
}

export const show: Command = {
  group: 'user',
  name: 'show',
  summary: 'Shows one user: details, lock state, password, second factors and the portals used.',
  args: ['USERNAME'],
  options: {},
  details: ['Never shows a password, code or secret; the phone number only as *****16.'],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const services = await ctx.services();
    const account = await findUser(ctx, username);
    const lock = await services.lockout.status(account);
    const factors: string[] = [];
    for (const factor of allFactors().filter((f) => f.role !== 'first')) {
      if (await factor.isEnrolled(services, account)) factors.push(factor.id);
    }
    const [passwordCredential] = await services.store.credentials.listByAccount(account.id, 'password');
    const passwordSetAt = typeof passwordCredential?.data.setAt === 'number' ? passwordCredential.data.setAt : null;
    const temporary = await services.passwords.temporary(account);
    const now = services.clock.now();
    const portals = await services.store.accountPortals.listByAccount(account.id);
    const names = new Map<string, string>();
    for (const portal of portals) {
      const client = await services.store.clients.find(portal.clientId);
      names.set(portal.clientId, client ? policyFromMetadata(client.metadata).name : '(removed)');
    }
    const temporaryText = temporary
      ? temporary.expiresAt > now ? `pending, works until ${formatTime(temporary.expiresAt)}` : `expired ${formatTime(temporary.expiresAt)}`
      : '-';
    const data = {
      ...userJson(account),
      lock: lockJson(lock),
      password: { set_at: passwordSetAt === null ? null : new Date(passwordSetAt).toISOString() },
      temporary_password: temporary
        ? { issued_at: new Date(temporary.issuedAt).toISOString(), expires_at: new Date(temporary.expiresAt).toISOString(), expired: temporary.expiresAt <= now, client_id: temporary.clientId }
        : null,
      factors,
      required_actions: account.requiredActions,
      portals: portals.map((p) => ({ client_id: p.clientId, name: names.get(p.clientId), first_login_at: new Date(p.firstLoginAt).toISOString(), last_login_at: new Date(p.lastLoginAt).toISOString() })),
    };
    ctx.out.result([
      `username:       ${account.username}`,
      `id:             ${account.id}`,
      `email:          ${account.email}${account.emailVerified ? ' (verified)' : ''}`,
      `phone:          ${account.phoneHint ? `${maskPhone(account.phoneHint)}${account.phoneVerified ? ' (verified)' : ''}` : '-'}`,
      `name:           ${[account.givenName, account.familyName].filter(Boolean).join(' ') || '-'}`,
      `locale:         ${account.locale}`,
      `status:         ${account.status}`,
      `lock:           ${lockText(lock)}${lock.failures ? ` (${lock.failures} failed password attempts since the last login)` : ''}`,
      `password:       ${passwordSetAt === null ? 'none' : `set ${formatTime(passwordSetAt)}`}`,
      `temporary:      ${temporaryText}`,
      `second factors: ${factors.join(', ') || '-'}`,
      `required:       ${account.requiredActions.join(', ') || '-'}`,
      `created:        ${formatTime(account.createdAt)}`,
      ...(portals.length
        ? ['portals:', ...table(['CLIENT_ID', 'NAME', 'FIRST_LOGIN', 'LAST_LOGIN'], portals.map((p) => [p.clientId, names.get(p.clientId) ?? '', formatTime(p.firstLoginAt), formatTime(p.lastLoginAt)])).map((line) => `  ${line}`)]
        : ['portals:        -']),
    ], data);
  },
};

export const update: Command = {
  group: 'user',
  name: 'update',
  summary: 'Changes a user\'s e-mail address, phone number, names or language.',
  args: ['USERNAME'],
  options: {
    email: { type: 'string', value: 'EMAIL', description: 'new e-mail address (no longer verified; the old address is told)' },
    phone: { type: 'string', value: 'PHONE', description: 'new mobile number, e.g. 06 12345678 (no longer verified; the patient is told); `none` removes it' },
    'given-name': { type: 'string', value: 'NAME', description: 'given name (`none` removes it)' },
    'family-name': { type: 'string', value: 'NAME', description: 'family name (`none` removes it)' },
    locale: { type: 'string', value: 'nl|en', description: 'language of pages and messages' },
  },
  details: [
    'A changed e-mail address or phone number must be verified again, and a notice goes to the address the',
    'patient had before (so a patient whose details were changed by someone else hears of it).',
  ],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const services = await ctx.services();
    const before = await findUser(ctx, username);
    const changes: Partial<AccountRecord> = {};
    const email = args.string('email')?.trim();
    if (email !== undefined && email !== before.email) {
      if (validateNewAccount({ username: before.username, email }).includes('email_invalid')) throw new CliError('--email is not a valid e-mail address');
      const holder = await services.accounts.findByLogin(email);
      if (holder && holder.id !== before.id) throw new CliError(`e-mail address ${email} is taken`);
      Object.assign(changes, { email, emailVerified: false });
    }
    const phoneInput = args.string('phone');
    let phoneChanged = false;
    if (phoneInput !== undefined) {
      const phone = phoneInput === 'none' ? null : normalisePhone(phoneInput);
      if (phone === undefined) throw new CliError('--phone is not a valid phone number (e.g. 06 12345678, or +32 470 12 34 56 for other countries)');
      if (phone && !phone.isMobile) ctx.out.note('note: this is not a mobile number, so SMS codes cannot be sent to it (voice calls can).');
      const current = services.accounts.phoneOf(before);
      if ((phone?.e164 ?? null) !== current) {
        Object.assign(changes, services.accounts.sealedPhone(phone?.e164 ?? null, false));
        phoneChanged = true;
      }
    }
    for (const [flag, field] of [['given-name', 'givenName'], ['family-name', 'familyName']] as const) {
      const value = args.string(flag);
      if (value === undefined) continue;
      const next = value === 'none' ? null : value.normalize('NFC').trim() || null;
      if (next !== null && [...next].length > 100) throw new CliError(`--${flag} is longer than 100 characters`);
      if (next !== before[field]) changes[field] = next;
    }
    const locale = args.choice('locale', LOCALES);
    if (locale && locale !== before.locale) changes.locale = locale;
    const changed = Object.keys(changes).filter((key) => !['emailVerified', 'phoneHint', 'phoneVerified'].includes(key)).map((key) => (key === 'phoneEncrypted' ? 'phone' : key));
    if (!args.has('email') && !args.has('phone') && !args.has('given-name') && !args.has('family-name') && !args.has('locale')) {
      throw args.usage('nothing to change: give at least one option');
    }
    if (!changed.length) {
      ctx.out.result(`User ${before.username} already has these details`, { ...userJson(before), changed: [] });
      return;
    }
    const after = await services.accounts.update(before, changes);
    await ctx.audit({ type: 'admin.user.updated', accountId: after.id, detail: { changed, outcome: 'updated' } });
    // Told on the channel the patient had: the old address for a new address, and for a new phone
    // too (a new address is not verified yet). Awaited here: the CLI ends when the command does.
    const notices: SecurityNotice[] = [
      ...(changes.email !== undefined ? [{ kind: 'email_changed', previousEmail: before.email, byOperator: true } as const] : []),
      ...(phoneChanged ? [{ kind: 'phone_changed', byOperator: true } as const] : []),
    ];
    const told: string[] = [];
    for (const notice of notices) {
      const detail = { kind: notice.kind, to: maskMail(before.email) };
      try {
        await deliverSecurityNotice(services, { ...after, email: before.email }, notice);
        await services.audit.record({ type: 'notice.sent', accountId: after.id, detail });
        told.push(notice.kind);
      } catch {
        await services.audit.record({ type: 'notice.failed', accountId: after.id, detail });
        ctx.out.note(`warning: the ${notice.kind.replace('_', ' ')} notice to ${maskMail(before.email)} could not be sent`);
      }
    }
    ctx.out.result(
      [`Updated user ${after.username} (${changed.join(', ')})`, ...(told.length ? [`A notice went to ${maskMail(before.email)}.`] : [])],
      { ...userJson(after), changed, notices_sent: told },
    );
  },
};

export const temporaryPassword: Command = {
  group: 'user',
  name: 'temp-password',
  summary: 'Mails the user a temporary password that must be replaced at the next login.',
  args: ['USERNAME'],
  options: {
    client: { type: 'string', value: 'CLIENT_ID', description: 'the portal it is for: its name, login address and mail sender are used' },
  },
  details: [
    'The password is never shown here: it goes to the account\'s e-mail address only, in the account\'s',
    'language, and is stored as a hash. It works for passwords.temporaryTtlSeconds of the policy (default 72 hours).',
    'Signing in with it leads straight to "U bent verplicht uw wachtwoord te wijzigen"; the patient\'s own',
    'password keeps working until then, so a temporary password cannot be used to lock anyone out.',
  ],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const services = await ctx.services();
    const account = await findUser(ctx, username);
    if (!account.email) throw new CliError(`user ${account.username} has no e-mail address (set one with: poortwachter user update ${account.username} --email ...)`);
    const clientId = args.string('client');
    const portal = clientId === undefined ? undefined : await portalSender(ctx, clientId);
    let issued: { expiresAt: number };
    try {
      issued = await services.passwordLifecycle.issueTemporary(account, portal, { actor: operatorActor(), clientId: clientId ?? null });
    } catch (error) {
      throw new CliError(`the mail to ${maskMail(account.email)} could not be sent; no temporary password was set`, [error instanceof Error ? error.message : String(error)]);
    }
    ctx.out.result(
      `Mailed a temporary password to ${maskMail(account.email)}${portal ? ` for ${portal.name}` : ''}; it works until ${formatTime(issued.expiresAt)}`,
      { ...userJson(account), temporary_password: { sent_to: maskMail(account.email), client_id: clientId ?? null, expires_at: new Date(issued.expiresAt).toISOString() } },
    );
  },
};

/** What an operator may ask of the next login; each is a required action (src/actions/). */
const REQUIRABLE = ['update-password', 'verify-email', 'verify-phone', 'enrol-second-factor'] as const;

export const requireAction: Command = {
  group: 'user',
  name: 'require-action',
  summary: 'Makes the next login of the user run a required action first (e.g. a new password).',
  args: ['USERNAME'],
  options: {
    action: { type: 'string', value: REQUIRABLE.join('|'), description: 'the action to require' },
  },
  details: [
    'The action runs in the next login, after the password and second factor, before the portal gets it;',
    'it is cleared once done. update-password asks current + new + confirm under the strictest profile of',
    'the user\'s portals ("U bent verplicht uw wachtwoord te wijzigen").',
  ],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const action = args.string('action');
    if (action === undefined || !(REQUIRABLE as readonly string[]).includes(action)) {
      throw new UsageError(`--action must be one of ${REQUIRABLE.join(', ')}`);
    }
    const services = await ctx.services();
    const account = await findUser(ctx, username);
    const already = account.requiredActions.includes(action);
    const after = already ? account : await services.accounts.update(account, { requiredActions: [...account.requiredActions, action] });
    await services.audit.record({ type: 'admin.user.action_required', accountId: account.id, actor: operatorActor(), detail: { action, outcome: already ? 'already_required' : 'required' } });
    ctx.out.result(
      already ? `User ${account.username} already has to ${action} at the next login` : `User ${account.username} has to ${action} at the next login`,
      { ...userJson(after), required_actions: after.requiredActions },
    );
  },
};

export const remove: Command = {
  group: 'user',
  name: 'remove',
  summary: 'Erases a user: account, credentials, codes, devices, grants, sessions and tokens.',
  args: ['USERNAME'],
  options: {},
  details: [
    'The audit trail keeps the user\'s events under a pseudonym (a keyed hash of the account id), so the',
    'security record stays complete without naming the person. This cannot be undone.',
  ],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const services = await ctx.services();
    const account = await findUser(ctx, username);
    const result = await eraseAccount(services, account, { actor: operatorActor() });
    ctx.out.result(
      `Removed user ${account.username}; ${result.auditEvents} audit events now name ${result.pseudonym}`,
      { username: account.username, removed: true, audit_pseudonym: result.pseudonym, audit_events: result.auditEvents },
    );
  },
};
