// `poortwachter user ...`: patient accounts. Passwords arrive on stdin only, never as an argument:
// arguments end up in shell history and in `ps` output for every user on the machine.
import { validateNewAccount, type AccountProblem } from '../../accounts/accounts.ts';
import { normalisePhone } from '../../delivery/phone.ts';
import { maskPhone } from '../../log.ts';
import type { CliContext } from './context.ts';
import type { Command } from './command.ts';
import { CliError, describePasswordProblem } from './errors.ts';
import { formatTime, table } from './output.ts';
import { remove, requireAction, show, temporaryPassword, update } from './user-lifecycle.ts';
import { lockJson, lockText, userJson } from './user-format.ts';
import { invite, resendInvite } from './user-invite.ts';

const LOCALES = ['nl', 'en'] as const;
const MAX_PASSWORD_INPUT = 4096;

const accountProblemText: Record<AccountProblem, string> = {
  username_invalid: '--username must be 3-64 letters, digits or . _ @ + -',
  email_invalid: '--email is not a valid e-mail address',
};

/** First line of piped stdin; stops reading there, so a producer that keeps stdin open cannot hang us. */
async function readFirstLine(stdin: CliContext['stdin']): Promise<string> {
  let buffer = '';
  for await (const chunk of stdin) {
    buffer += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    const newline = buffer.indexOf('\n');
    if (newline !== -1) return buffer.slice(0, newline).replace(/\r$/, '');
    if (buffer.length > MAX_PASSWORD_INPUT) throw new CliError('the password on stdin is too long');
  }
  return buffer.replace(/\r$/, '');
}

/** Typed at a terminal: prompt on stderr and do not echo, as `passwd` does. */
function readHidden(stdin: CliContext['stdin'], stderr: NodeJS.WritableStream): Promise<string> {
  const raw = stdin.setRawMode?.bind(stdin);
  if (!raw) return readFirstLine(stdin);
  return new Promise((resolve, reject) => {
    let value = '';
    raw(true); // before the prompt, so nothing typed after it is ever echoed
    stderr.write('Password: ');
    stdin.setEncoding('utf8');
    const finish = (error?: Error) => {
      stdin.off('data', onData);
      raw(false);
      stdin.pause();
      stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003' || char === '\u0004') return finish(new CliError('cancelled'));
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readPassword(ctx: CliContext): Promise<string> {
  const password = ctx.stdin.isTTY === true ? await readHidden(ctx.stdin, ctx.stderr) : await readFirstLine(ctx.stdin);
  if (!password) throw new CliError('no password on stdin (pipe it in: printf "%s\\n" "$PASSWORD" | poortwachter user add ... --password-stdin)');
  return password;
}

const add: Command = {
  group: 'user',
  name: 'add',
  summary: 'Creates a patient account with a password read from stdin (first line).',
  options: {
    username: { type: 'string', value: 'USERNAME', description: 'login name, 3-64 letters, digits or . _ @ + -', required: true },
    email: { type: 'string', value: 'EMAIL', description: 'e-mail address (also accepted as login name)', required: true },
    phone: { type: 'string', value: 'PHONE', description: 'mobile number for SMS codes, e.g. 06 12345678 or +31612345678' },
    'given-name': { type: 'string', value: 'NAME', description: 'given name' },
    'family-name': { type: 'string', value: 'NAME', description: 'family name' },
    locale: { type: 'string', value: 'nl|en', description: 'language of pages and messages (default nl)' },
    'password-stdin': { type: 'boolean', description: 'read the password from stdin', required: true },
  },
  details: [
    'The password must pass the same policy as at sign-up: length, not a common password, no own name in it.',
    '',
    'Example:',
    '  printf "%s\\n" "$PASSWORD" | poortwachter user add --username jdevries --email j.devries@example.nl --phone 0612345678 --password-stdin',
  ],
  async run(ctx, args) {
    const locale = args.choice('locale', LOCALES);
    const phoneInput = args.string('phone');
    const input = {
      username: args.requiredString('username').normalize('NFKC').trim(),
      email: args.requiredString('email').trim(),
      givenName: args.string('given-name')?.trim() || null,
      familyName: args.string('family-name')?.trim() || null,
      locale: locale ?? 'nl',
    };
    const problems = validateNewAccount(input);
    if (problems.length) throw new CliError('user rejected:', problems.map((p) => accountProblemText[p]));
    const phone = phoneInput === undefined ? undefined : normalisePhone(phoneInput);
    if (phoneInput !== undefined && !phone) throw new CliError('--phone is not a valid phone number (e.g. 06 12345678, or +32 470 12 34 56 for other countries)');
    if (phone && !phone.personal) throw new CliError('--phone is a paid or service number (such as 0800, 0900, 0906, 0909 or 088), not a personal phone: codes are never sent to those');
    if (phone && !phone.isMobile) ctx.out.note('note: this is not a mobile number, so SMS codes cannot be sent to it (voice calls can).');

    const services = await ctx.services();
    if (await services.accounts.findByLogin(input.username)) throw new CliError(`username ${input.username} is taken`);
    if (await services.accounts.findByLogin(input.email)) throw new CliError(`e-mail address ${input.email} is taken`);
    // Checked before anything is written: a rejected password must not leave an account without one.
    const password = await readPassword(ctx);
    const passwordProblems = services.passwords.check(input, password);
    if (passwordProblems.length) {
      throw new CliError('password rejected:', passwordProblems.map((p) => describePasswordProblem(p, services.config.policy.passwords)));
    }

    const account = await services.accounts.create({ ...input, phoneE164: phone?.e164 ?? null });
    try {
      await services.passwords.set(account, password);
    } catch (error) {
      await services.accounts.remove(account.id);
      throw error;
    }
    await ctx.audit({ type: 'admin.user.added', accountId: account.id });
    ctx.out.result(`Created user ${account.username} (id ${account.id})`, userJson(account));
  },
};

const list: Command = {
  group: 'user',
  name: 'list',
  summary: 'Lists patient accounts; phone numbers only masked (*****16).',
  options: {
    limit: { type: 'string', value: 'N', description: 'at most N users' },
    offset: { type: 'string', value: 'N', description: 'skip the first N users' },
  },
  async run(ctx, args) {
    const services = await ctx.services();
    const accounts = await services.store.accounts.list({ limit: args.count('limit'), offset: args.count('offset') });
    const locks = await Promise.all(accounts.map((a) => services.lockout.status(a)));
    const rows = accounts.map((a, i) => [
      a.username,
      a.email,
      maskPhone(a.phoneHint),
      [a.givenName, a.familyName].filter(Boolean).join(' '),
      a.locale,
      a.status,
      lockText(locks[i]!),
      formatTime(a.createdAt),
    ]);
    ctx.out.result(
      accounts.length ? table(['USERNAME', 'EMAIL', 'PHONE', 'NAME', 'LOCALE', 'STATUS', 'LOCK', 'CREATED'], rows) : ['No users.'],
      accounts.map((a, i) => ({ ...userJson(a), lock: lockJson(locks[i]!) })),
    );
  },
};

function statusCommand(name: 'disable' | 'enable'): Command {
  const status = name === 'disable' ? 'disabled' : 'active';
  return {
    group: 'user',
    name,
    summary: name === 'disable' ? 'Blocks a user: no sign-in, no userinfo, no token refresh.' : 'Lifts the block of a disabled user.',
    details:
      name === 'disable'
        ? ['Sign-in is refused only after a correct password, so the block tells password guessers nothing.', 'Access tokens already issued stay valid until they expire (10 minutes by default).']
        : undefined,
    args: ['USERNAME'],
    options: {},
    async run(ctx, args) {
      const [username] = args.positionals as [string];
      const ops = await ctx.operations();
      const id = await ops.accounts.idOf(ctx.actor, username);
      const { outcome } = await ops.accountSecurity.setStatus(ctx.actor, id, status);
      const account = (await ops.accounts.get(ctx.actor, id)).account;
      ctx.out.result(outcome === 'unchanged' ? `User ${account.username} is already ${status}` : `User ${account.username} is now ${status}`, account);
    },
  };
}

// Minddistrict: "a practitioner can reset 2FA when the recovery codes are gone". Every second
// factor and recovery code goes, and so does every remembered device and sign-in; the next login
// sets up a factor again (after the password, as on a first login); the patient is told by mail.
const resetMfa: Command = {
  group: 'user',
  name: 'reset-mfa',
  summary: 'Removes all second factors, recovery codes and remembered devices of a user; the next login sets one up.',
  details: ['Use after checking the patient\'s identity (e.g. at the practice): whoever knows the password can then enrol a new factor.'],
  args: ['USERNAME'],
  options: {},
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const ops = await ctx.operations();
    const id = await ops.accounts.idOf(ctx.actor, username);
    const { removed, noticeSent } = await ops.accountSecurity.resetSecondFactors(ctx.actor, id);
    const account = (await ops.accounts.get(ctx.actor, id)).account;
    if (!noticeSent) ctx.out.note('warning: the notice to the patient could not be sent');
    ctx.out.result(`Reset two-step verification of ${account.username}${removed.length ? ` (removed: ${removed.join(', ')})` : ' (nothing was set up)'}; the next login sets up a second factor`, { ...account, removed, notice_sent: noticeSent });
  },
};

// Lifts a temporary or hard lock (NIST SP 800-63B-4 §3.2.2: after 100 failed guesses only an
// unlock opens the account again). The failure counts start afresh.
const unlock: Command = {
  group: 'user',
  name: 'unlock',
  summary: 'Lifts a password lock of a user (temporary or hard) and resets the failure count.',
  details: ['Check who is asking first: a hard lock means someone made 100 wrong guesses at this account.'],
  args: ['USERNAME'],
  options: {},
  async run(ctx, args) {
    const [username] = args.positionals as [string];
    const ops = await ctx.operations();
    const id = await ops.accounts.idOf(ctx.actor, username);
    const result = await ops.accountSecurity.unlock(ctx.actor, id);
    const account = (await ops.accounts.get(ctx.actor, id)).account;
    const was = result.was.state === 'locked' && result.was.locked_until ? `locked until ${formatTime(Date.parse(result.was.locked_until))}` : result.was.state;
    ctx.out.result(
      result.outcome === 'unlocked' ? `Unlocked ${account.username} (was ${was} after ${result.was.failures} failed attempts)` : `User ${account.username} was not locked; failure count reset`,
      { ...account, was: result.was, lock: result.lock },
    );
  },
};

export const userCommands: Command[] = [add, invite, resendInvite, list, show, update, statusCommand('disable'), statusCommand('enable'), unlock, resetMfa, temporaryPassword, requireAction, remove];
