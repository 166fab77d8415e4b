// `poortwachter user invite|resend-invite`: the practice's side of Mijn Therapie Dossier's first
// login. The account is made without a password (or an existing one without a password is used)
// and the patient gets a mail, from the portal's sender, with the username and a single-use link to
// the activation (accounts/invitations.ts). The link itself is never printed: it is the patient's.
import { maskMail } from '../../delivery/index.ts';
import { InvitationError } from '../../accounts/invitations.ts';
import type { Command } from './command.ts';
import { CliError } from './errors.ts';
import { formatTime } from './output.ts';
import { findUser, userJson } from './user-format.ts';
import { operatorActor } from './context.ts';

const LOCALES = ['nl', 'en'] as const;

/** An invitation refused: the operator reads why, the exit code says it failed. */
function refused(error: unknown): never {
  if (error instanceof InvitationError) throw new CliError(`invitation refused: ${error.message}`);
  throw error;
}

export const invite: Command = {
  group: 'user',
  name: 'invite',
  summary: 'Creates a patient account without a password and mails an invitation to activate it.',
  options: {
    username: { type: 'string', value: 'USERNAME', description: 'login name, 3-64 letters, digits or . _ @ + -', required: true },
    email: { type: 'string', value: 'EMAIL', description: 'e-mail address the invitation goes to', required: true },
    phone: { type: 'string', value: 'PHONE', description: 'mobile number, verified by SMS during activation when the portal asks (--verify-phone)' },
    client: { type: 'string', value: 'CLIENT_ID', description: 'the portal: its mail sender, name, methods, and where the activation ends' },
    'given-name': { type: 'string', value: 'NAME', description: 'given name' },
    'family-name': { type: 'string', value: 'NAME', description: 'family name' },
    locale: { type: 'string', value: 'nl|en', description: 'language of the mail and pages (default nl)' },
  },
  details: [
    'An existing account without a password is invited again (a new link; the earlier one stops working);',
    'an account that has a password is refused: use temp-password, or let the patient use "wachtwoord vergeten".',
    'The link works once, for activation.linkTtlSeconds of the policy (default 72 hours).',
    '',
    'Example:',
    '  poortwachter user invite --username sdeboer --email s.deboer@example.nl --phone 0612341361 --client mijn-therapie-dossier',
  ],
  async run(ctx, args) {
    const services = await ctx.services();
    const phone = args.string('phone');
    const clientId = args.string('client');
    const givenName = args.string('given-name');
    const familyName = args.string('family-name');
    const locale = args.choice('locale', LOCALES);
    const result = await services.invitations.invite({
      username: args.requiredString('username'),
      email: args.requiredString('email'),
      ...(phone === undefined ? {} : { phone }),
      ...(clientId === undefined ? {} : { clientId }),
      ...(givenName === undefined ? {} : { givenName }),
      ...(familyName === undefined ? {} : { familyName }),
      ...(locale === undefined ? {} : { locale }),
      actor: operatorActor(),
    }).catch(refused);
    await ctx.audit({ type: 'admin.user.invited', accountId: result.account.id, clientId: clientId ?? null, detail: { outcome: result.created ? 'created' : 'existing' } });
    ctx.out.result(
      `${result.created ? 'Created' : 'Invited existing'} user ${result.account.username}; the invitation went to ${maskMail(result.account.email)} and works until ${formatTime(result.expiresAt)}`,
      { ...userJson(result.account), created: result.created, invitation: { sent_to: maskMail(result.account.email), client_id: clientId ?? null, expires_at: new Date(result.expiresAt).toISOString() } },
    );
  },
};

export const resendInvite: Command = {
  group: 'user',
  name: 'resend-invite',
  summary: 'Mails a new invitation link to a user without a password; the earlier link stops working.',
  args: ['USERNAME'],
  options: {
    client: { type: 'string', value: 'CLIENT_ID', description: 'the portal (default: the one of the last invitation)' },
  },
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const services = await ctx.services();
    const account = await findUser(ctx, username);
    const clientId = args.string('client');
    const result = await services.invitations.resend(account.id, { actor: operatorActor() }, clientId).catch(refused);
    await ctx.audit({ type: 'admin.user.invited', accountId: account.id, clientId: clientId ?? null, detail: { outcome: 'resent' } });
    ctx.out.result(
      `Mailed a new invitation to ${maskMail(account.email)}; it works until ${formatTime(result.expiresAt)}`,
      { ...userJson(account), invitation: { sent_to: maskMail(account.email), expires_at: new Date(result.expiresAt).toISOString() } },
    );
  },
};
