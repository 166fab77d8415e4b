// `poortwachter user show|update|temp-password|remove`: the operator side of the account lifecycle
// (issue 8). Every change is audited with the operator; nothing here prints or stores a password,
// and no command sets one the operator chooses (see `user --help`).
import { eraseAccount } from '../../accounts/erasure.ts';
import type { PortalSender } from '../../accounts/temporary-password-mail.ts';
import { maskMail } from '../../delivery/index.ts';
import { allFactors } from '../../factors/registry.ts';
import { maskPhone } from '../../log.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';
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
  summary: 'Changes a user\'s e-mail address, phone number, names, language or organisations.',
  args: ['USERNAME'],
  options: {
    email: { type: 'string', value: 'EMAIL', description: 'new e-mail address (no longer verified; the old address is told)' },
    phone: { type: 'string', value: 'PHONE', description: 'new mobile number, e.g. 06 12345678 (no longer verified; the patient is told); `none` removes it' },
    'given-name': { type: 'string', value: 'NAME', description: 'given name (`none` removes it)' },
    'family-name': { type: 'string', value: 'NAME', description: 'family name (`none` removes it)' },
    locale: { type: 'string', value: 'nl|en', description: 'language of pages and messages' },
    organisation: { type: 'string', multiple: true, value: 'ID', description: 'replaces the organisations the account belongs to (`none`: none)' },
  },
  details: [
    'A changed e-mail address or phone number must be verified again, and a notice goes to the address the',
    'patient had before (so a patient whose details were changed by someone else hears of it).',
  ],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    if (!['email', 'phone', 'given-name', 'family-name', 'locale', 'organisation'].some((flag) => args.has(flag))) {
      throw args.usage('nothing to change: give at least one option');
    }
    const nullable = (flag: string) => {
      const value = args.string(flag);
      return value === undefined ? undefined : value === 'none' ? null : value;
    };
    const organisations = args.strings('organisation');
    const body = {
      email: args.string('email')?.trim(),
      phone: nullable('phone'),
      given_name: nullable('given-name'),
      family_name: nullable('family-name'),
      locale: args.choice('locale', LOCALES),
      organisations: args.has('organisation') ? organisations.filter((o) => o !== 'none') : undefined,
    };
    const ops = await ctx.operations();
    const id = await ops.accounts.idOf(ctx.actor, username);
    const { account: before } = await ops.accounts.get(ctx.actor, id);
    const result = await ops.accounts.update(ctx.actor, id, body);
    if (!result.changed.length) {
      ctx.out.result(`User ${before.username} already has these details`, { ...result.account, changed: [] });
      return;
    }
    const notices = result.changed.filter((c) => c === 'email' || c === 'phone').length;
    if (notices > result.noticesSent.length) ctx.out.note(`warning: a notice to ${maskMail(before.email)} could not be sent`);
    ctx.out.result(
      [`Updated user ${result.account.username} (${result.changed.join(', ')})`, ...(result.noticesSent.length ? [`A notice went to ${maskMail(before.email)}.`] : [])],
      { ...result.account, changed: result.changed, notices_sent: result.noticesSent },
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
    const ops = await ctx.operations();
    const account = await findUser(ctx, username);
    if (!account.email) throw new CliError(`user ${account.username} has no e-mail address (set one with: poortwachter user update ${account.username} --email ...)`);
    const clientId = args.string('client');
    const portal = clientId === undefined ? undefined : await portalSender(ctx, clientId);
    const issued = await ops.accountSecurity.temporaryPassword(ctx.actor, account.id, clientId === undefined ? {} : { client_id: clientId });
    ctx.out.result(
      `Mailed a temporary password to ${issued.sentTo}${portal ? ` for ${portal.name}` : ''}; it works until ${formatTime(issued.expiresAt)}`,
      { ...userJson(account), temporary_password: { sent_to: issued.sentTo, client_id: clientId ?? null, expires_at: new Date(issued.expiresAt).toISOString() } },
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
