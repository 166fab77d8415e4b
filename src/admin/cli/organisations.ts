// `poortwachter org ...` and `poortwachter admin ...`: organisations (practices) and admin roles,
// through the admin operations (the CLI acts as an operator).
import type { Command } from './command.ts';
import { table } from './output.ts';

const orgAdd: Command = {
  group: 'org',
  name: 'add',
  summary: 'Creates an organisation (a practice); accounts and portals can then belong to it.',
  args: ['ID'],
  options: { name: { type: 'string', value: 'NAME', description: 'name of the organisation', required: true } },
  details: ['ID: 2-64 lower-case letters, digits and -, e.g. praktijk-zuid. Example:', '  poortwachter org add praktijk-zuid --name "Praktijk Zuid"'],
  async run(ctx, args) {
    const [id] = args.positionals as [string];
    const created = await (await ctx.operations()).organisations.add(ctx.actor, { id, name: args.requiredString('name') });
    ctx.out.result(`Created organisation ${created.id} (${created.name})`, created);
  },
};

const orgList: Command = {
  group: 'org',
  name: 'list',
  summary: 'Lists the organisations.',
  options: {},
  async run(ctx) {
    const organisations = await (await ctx.operations()).organisations.list(ctx.actor);
    ctx.out.result(organisations.length ? table(['ID', 'NAME', 'CREATED'], organisations.map((o) => [o.id, o.name, o.created_at])) : ['No organisations. Add one with: poortwachter org add ID --name NAME'], organisations);
  },
};

const orgRemove: Command = {
  group: 'org',
  name: 'remove',
  summary: 'Removes an organisation; its accounts and portals stay, without it.',
  args: ['ID'],
  options: {},
  async run(ctx, args) {
    const [id] = args.positionals as [string];
    await (await ctx.operations()).organisations.remove(ctx.actor, id);
    ctx.out.result(`Removed organisation ${id}`, { id, removed: true });
  },
};

const grant: Command = {
  group: 'admin',
  name: 'grant',
  summary: 'Gives an account an admin role for the console: operator, practice or auditor.',
  args: ['USERNAME'],
  options: {
    role: { type: 'string', value: 'operator|practice|auditor', description: 'operator: everything; practice: accounts and portals of its organisations; auditor: reads the audit log', required: true },
    organisation: { type: 'string', multiple: true, value: 'ID', description: 'an organisation a practice admin acts for (required for practice)' },
  },
  details: ['Replaces the account\'s previous role. Example:', '  poortwachter admin grant assistent@praktijk-zuid.nl --role practice --organisation praktijk-zuid'],
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const granted = await (await ctx.operations()).admins.grant(ctx.actor, { username, role: args.string('role'), organisations: args.strings('organisation') });
    ctx.out.result(`${granted.username ?? username} is now ${granted.role}${granted.organisations.length ? ` for ${granted.organisations.join(', ')}` : ''}`, granted);
  },
};

const revoke: Command = {
  group: 'admin',
  name: 'revoke',
  summary: 'Takes an account\'s admin role away.',
  args: ['USERNAME'],
  options: {},
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    await (await ctx.operations()).admins.revoke(ctx.actor, username);
    ctx.out.result(`${username} is no longer an admin`, { username, revoked: true });
  },
};

const list: Command = {
  group: 'admin',
  name: 'list',
  summary: 'Lists the accounts with an admin role.',
  options: {},
  async run(ctx) {
    const admins = await (await ctx.operations()).admins.list(ctx.actor);
    ctx.out.result(
      admins.length ? table(['USERNAME', 'ROLE', 'ORGANISATIONS', 'GRANTED', 'BY'], admins.map((a) => [a.username ?? a.account_id, a.role, a.organisations.join(',') || '-', a.granted_at, a.granted_by])) : ['No admins. Grant a role with: poortwachter admin grant USERNAME --role operator'],
      admins,
    );
  },
};

export const organisationCommands: Command[] = [orgAdd, orgList, orgRemove];
export const adminCommands: Command[] = [grant, revoke, list];

const dcrToken: Command = {
  group: 'dcr',
  name: 'token',
  summary: 'Mints an initial access token with which a portal may register itself (RFC 7591, POST /reg).',
  options: { expires: { type: 'string', value: 'DURATION', description: 'how long it works: 3600s, 90m, 12h or 7d (default 7d, at most 90d)' } },
  details: [
    'A self-registered portal gets standard metadata only: its sign-in policy and brand are set by an operator',
    'afterwards (client update, the admin API or the console). The token is shown only this once.',
  ],
  async run(ctx, args) {
    const text = args.string('expires') ?? '7d';
    const match = /^(\d+)([smhd])$/.exec(text);
    if (!match) throw args.usage(`--expires must be a number with s, m, h or d (got "${text}")`);
    const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2] as 's' | 'm' | 'h' | 'd'];
    const minted = await (await ctx.operations()).registration.mintInitialAccessToken(ctx.actor, { expires_in: seconds });
    ctx.out.result(
      [`initial_access_token: ${minted.token}`, `expires:              ${new Date(minted.expiresAt).toISOString()}`],
      { initial_access_token: minted.token, expires_at: new Date(minted.expiresAt).toISOString() },
    );
  },
};

export const registrationCommands: Command[] = [dcrToken];
