// Finds the command in argv, parses its options, runs it, and turns every failure into a message
// on stderr and an exit code. `--json` and `--help` may appear anywhere on the line.
import { clientCommands } from './clients.ts';
import { userCommands } from './users.ts';
import { keyCommands } from './keys.ts';
import { passwordProfileCommands } from './password-profiles.ts';
import { maintenanceCommands } from './maintenance.ts';
import { databaseCommands } from './database.ts';
import { adminCommands, organisationCommands, registrationCommands } from './organisations.ts';
import { commandHelp, commandPath, parseCommandArgs, type Command } from './command.ts';
import type { CliContext } from './context.ts';
import { describeError, EXIT_USAGE, formatError, formatErrorJson, UsageError } from './errors.ts';
import { createOutput } from './output.ts';

export const COMMANDS: Command[] = [...clientCommands, ...userCommands, ...organisationCommands, ...adminCommands, ...registrationCommands, ...passwordProfileCommands, ...keyCommands, ...maintenanceCommands, ...databaseCommands];

const GROUPS: Record<string, string> = {
  client: 'portals (relying parties) that may sign patients in',
  user: 'patient accounts',
  org: 'organisations (practices) that accounts and portals belong to',
  admin: 'admin roles for the console (operator, practice, auditor)',
  dcr: 'dynamic client registration: initial access tokens',
  'password-profile': 'password rules portals can ask for (length, character classes, history)',
  keys: 'ID token signing keys',
  db: 'the database: schema, maintenance, export and import',
  audit: 'the audit trail',
};

// Said where an operator looks for it: what a group deliberately cannot do, and what to use instead.
const GROUP_NOTES: Record<string, string[]> = {
  user: [
    'No command sets a password an operator chooses for an existing account (ASVS 5.0 6.4.6: whoever',
    'chose it could sign in as the patient). Use `user temp-password`: it mails a temporary password that',
    'the patient must replace at the next login, and the patient\'s own password keeps working meanwhile.',
  ],
};

function overview(group?: string): string {
  const shown = COMMANDS.filter((c) => !group || c.group === group);
  const width = Math.max(...shown.map((c) => commandPath(c).length)) + 2;
  return [
    group ? `poortwachter ${group}: ${GROUPS[group]}` : 'poortwachter: administration of a Poortwachter identity provider',
    '',
    `Usage: poortwachter ${group ?? '<group>'} <command> [options]`,
    '',
    'Commands:',
    ...shown.map((c) => `  ${commandPath(c).padEnd(width)}${c.summary.replace(/\.$/, '')}`),
    '',
    ...(group && GROUP_NOTES[group] ? [...GROUP_NOTES[group], ''] : []),
    'Every command takes --json (machine-readable output on stdout) and --help.',
    'The CLI uses the server\'s environment: DATA_DIR or DATABASE_URL, SECRETS_KEY, ... Run it with the',
    'same settings as the server, or it works on a different (or empty) database.',
    '',
  ].join('\n');
}

const GLOBAL_FLAGS = new Set(['--json', '--help', '-h']);

/** The command words (`client add`) come first; only --json and --help may precede them. */
function splitCommand(argv: string[]): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let index = 0;
  for (; index < argv.length && words.length < 2; index += 1) {
    const token = argv[index]!;
    if (GLOBAL_FLAGS.has(token)) rest.push(token);
    else if (token.startsWith('-')) break;
    else words.push(token);
  }
  return { words, rest: [...rest, ...argv.slice(index)] };
}

export interface CliIo {
  stdin: CliContext['stdin'];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env?: Record<string, string | undefined>;
}

/** Runs one CLI invocation; returns the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { words, rest } = splitCommand(argv);
  const wantsHelp = rest.some((t) => t === '--help' || t === '-h');
  const [group, name] = words;
  // Known before parsing succeeds, so that even a bad invocation answers a script in JSON.
  const wantsJson = argv.includes('--json');
  const fail = (error: unknown) => {
    const described = describeError(error);
    io.stderr.write(wantsJson ? formatErrorJson(described) : formatError(described));
    return described.exitCode;
  };

  if (!group && !wantsHelp && wantsJson) return fail(new UsageError('no command given', 'See: poortwachter --help'));
  if (!group || group === 'help') {
    (group || wantsHelp ? io.stdout : io.stderr).write(overview());
    return group || wantsHelp ? 0 : EXIT_USAGE;
  }
  if (!Object.hasOwn(GROUPS, group)) return fail(new UsageError(`unknown command "${group}"`, 'See: poortwachter --help'));
  const command = COMMANDS.find((c) => c.group === group && c.name === name);
  if (!command) {
    if (!name && wantsHelp) {
      io.stdout.write(overview(group));
      return 0;
    }
    return fail(new UsageError(name ? `unknown command "${group} ${name}"` : `${group} needs a command`, `See: poortwachter ${group} --help`));
  }

  let parsed: ReturnType<typeof parseCommandArgs>;
  try {
    parsed = parseCommandArgs(command, rest);
  } catch (error) {
    return fail(error);
  }
  if (parsed.help) {
    io.stdout.write(commandHelp(command));
    return 0;
  }

  // Loaded only now: it pulls in the whole application (oidc-provider, pug, twilio, ...), which
  // --help and usage errors do not need and should not wait a second for.
  const { CliSession } = await import('./context.ts');
  const session = new CliSession(createOutput(parsed.json, io.stdout, io.stderr), io.stdin, io.stderr, io.env);
  let exitCode = 0;
  try {
    await command.run(session, parsed.args);
  } catch (error) {
    exitCode = fail(error);
  }
  try {
    await session.close();
  } catch (error) {
    exitCode = fail(error);
  }
  return exitCode;
}
