// `poortwachter password-profile ...`: the named password rules portals can ask for (ZINN: a digit
// and a special character from its own set, not the last 5 passwords; Flynth: an upper-case
// letter and a digit, not the surname, not used before). A portal names one with
// `client add|update --password-profile NAME`.
import {
  CHARACTER_CLASSES,
  DEFAULT_PROFILE_NAME,
  PROFILE_LIMITS,
  type CharacterClass,
  type PasswordProfile,
  type ProfileProblem,
} from '../../accounts/password-profile.ts';
import { ProfileInUseError, ProfileRejectedError, UnknownProfileError, type StoredProfile } from '../../accounts/password-profiles.ts';
import type { Args, Command, OptionSpec } from './command.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { formatTime, table } from './output.ts';

const problemText: Record<ProfileProblem, string> = {
  name_invalid: '--name must be 1-40 lower-case letters, digits or -, starting with a letter or digit',
  name_reserved: `"${DEFAULT_PROFILE_NAME}" is the built-in profile (NIST SP 800-63B-4); it is changed with PASSWORD_MIN_LENGTH and PASSWORD_MAX_LENGTH`,
  name_taken: 'a profile with this name exists already (change it with: poortwachter password-profile update)',
  min_length_range: `--min-length must be ${PROFILE_LIMITS.minLength.min} to ${PROFILE_LIMITS.minLength.max}`,
  max_length_range: `--max-length must be ${PROFILE_LIMITS.maxLength.min} to ${PROFILE_LIMITS.maxLength.max} (NIST SP 800-63B-4: allow at least 64)`,
  min_above_max: '--min-length is larger than --max-length',
  history_range: `--history must be 0 (off) to ${PROFILE_LIMITS.history.max}`,
  specials_invalid: `--specials must be 1-${PROFILE_LIMITS.specials.max} characters that are not letters, digits or spaces`,
  specials_unused: '--specials only matters with --require special',
};

function profileJson(profile: PasswordProfile & Partial<Pick<StoredProfile, 'builtIn' | 'createdAt' | 'updatedAt'>>, usedBy?: string[]) {
  return {
    name: profile.name,
    min_length: profile.minLength,
    max_length: profile.maxLength,
    require: profile.require,
    specials: profile.specials,
    blocklist: profile.blocklist,
    not_names: profile.notNames,
    history: profile.history,
    ...(profile.builtIn !== undefined ? { built_in: profile.builtIn } : {}),
    ...(profile.updatedAt ? { updated_at: new Date(profile.updatedAt).toISOString() } : {}),
    ...(usedBy ? { used_by: usedBy } : {}),
  };
}

function describeProfile(profile: PasswordProfile): string[] {
  return [
    `  length:      ${profile.minLength}-${profile.maxLength} characters`,
    `  require:     ${profile.require.length ? profile.require.map((c) => (c === 'special' && profile.specials ? `special (${profile.specials})` : c)).join(', ') : '-'}`,
    `  blocklist:   ${profile.blocklist ? 'on' : 'off'}`,
    `  not names:   ${profile.notNames ? 'on (no username, given name, family name or e-mail name inside)' : 'off'}`,
    `  history:     ${profile.history ? `not equal to the last ${profile.history} passwords` : 'off'}`,
  ];
}

function parseClasses(args: Args, value: string): CharacterClass[] {
  const classes = value.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean);
  const unknown = classes.filter((c) => !(CHARACTER_CLASSES as readonly string[]).includes(c));
  if (unknown.length) throw args.usage(`--require takes a comma-separated list of ${CHARACTER_CLASSES.join(', ')} (unknown: ${unknown.join(', ')})`);
  return [...new Set(classes)] as CharacterClass[];
}

function rejected(error: unknown): never {
  if (error instanceof ProfileRejectedError) throw new CliError('password profile rejected:', error.problems.map((p) => problemText[p]));
  if (error instanceof ProfileInUseError) {
    throw new CliError(`password profile ${error.profile} is used by ${error.clientIds.join(', ')}`, [
      `first give those portals another profile: poortwachter client update CLIENT_ID --password-profile default`,
    ]);
  }
  if (error instanceof UnknownProfileError) throw new CliError(`no password profile ${error.profile} (see: poortwachter password-profile list)`);
  throw error;
}

const RULE_OPTIONS: Record<string, OptionSpec> = {
  'min-length': { type: 'string', value: 'N', description: `shortest password, ${PROFILE_LIMITS.minLength.min}-${PROFILE_LIMITS.minLength.max} (default 8)` },
  'max-length': { type: 'string', value: 'N', description: `longest password, ${PROFILE_LIMITS.maxLength.min}-${PROFILE_LIMITS.maxLength.max} (default 128)` },
  require: { type: 'string', value: 'LIST', description: `character classes that must each appear: ${CHARACTER_CLASSES.join(',')} (update: \`none\` for none)` },
  specials: { type: 'string', value: 'CHARS', description: 'what counts as special (default: any character that is not a letter or digit; update: `any`); a set starting with - is written --specials=CHARS' },
  blocklist: { type: 'string', value: 'on|off', description: 'refuse common passwords (default on)' },
  history: { type: 'string', value: 'N', description: `not equal to the last N passwords, 0-${PROFILE_LIMITS.history.max} (default 0: off)` },
};

async function clientsUsing(ctx: CliContext, name: string): Promise<string[]> {
  return (await ctx.services()).passwordProfiles.clientsUsing(name);
}

const add: Command = {
  group: 'password-profile',
  name: 'add',
  summary: 'Adds a named password profile that portals can ask for.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'profile name, e.g. zinn', required: true },
    ...RULE_OPTIONS,
    'not-names': { type: 'boolean', description: 'refuse passwords containing the username, given name, family name or e-mail name' },
  },
  details: [
    'Patients who sign in to several portals are held to all of their profiles at once (and always to the',
    'default: length, blocklist, no own names). At login a password that no longer meets the portal\'s profile',
    'must be changed ("Uw wachtwoord voldoet niet aan de eisen van dit portaal").',
    '',
    'Examples:',
    '  poortwachter password-profile add --name zinn --min-length 8 --require digit,special --specials=\'-@#$%^&`[+=](.{)\' --history 5',
    '  poortwachter password-profile add --name flynth --min-length 8 --require upper,digit --not-names --history 24',
  ],
  async run(ctx, args) {
    const specials = args.string('specials');
    const profile: PasswordProfile = {
      name: args.requiredString('name').trim(),
      minLength: args.count('min-length') ?? 8,
      maxLength: args.count('max-length') ?? 128,
      require: args.has('require') ? parseClasses(args, args.requiredString('require')) : [],
      specials: specials === undefined ? null : specials,
      blocklist: args.onOff('blocklist') ?? true,
      notNames: args.flag('not-names'),
      history: args.count('history') ?? 0,
    };
    const services = await ctx.services();
    await services.passwordProfiles.add(profile).catch(rejected);
    await ctx.audit({ type: 'admin.password_profile.added', detail: { profile: profile.name } });
    ctx.out.result([`Added password profile ${profile.name}`, ...describeProfile(profile)], profileJson(profile, []));
  },
};

const update: Command = {
  group: 'password-profile',
  name: 'update',
  summary: 'Changes a password profile; what you do not mention stays as it is.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'the profile to change', required: true },
    ...RULE_OPTIONS,
    'not-names': { type: 'string', value: 'on|off', description: 'refuse passwords containing the username or a name' },
  },
  details: [
    'New rules apply to the next password a patient sets, and at the next login (a password that no longer',
    'meets them must be changed then). A deeper history starts with the passwords kept so far.',
  ],
  async run(ctx, args) {
    const name = args.requiredString('name').trim();
    const changes: Partial<Omit<PasswordProfile, 'name'>> = {};
    const minLength = args.count('min-length');
    if (minLength !== undefined) changes.minLength = minLength;
    const maxLength = args.count('max-length');
    if (maxLength !== undefined) changes.maxLength = maxLength;
    const require = args.string('require');
    if (require !== undefined) changes.require = require === 'none' ? [] : parseClasses(args, require);
    const specials = args.string('specials');
    if (specials !== undefined) changes.specials = specials === 'any' ? null : specials;
    const blocklist = args.onOff('blocklist');
    if (blocklist !== undefined) changes.blocklist = blocklist;
    const notNames = args.onOff('not-names');
    if (notNames !== undefined) changes.notNames = notNames;
    const history = args.count('history');
    if (history !== undefined) changes.history = history;
    if (!Object.keys(changes).length) throw args.usage('nothing to change: give at least one option');
    // A profile that no longer requires special characters has no use for its set.
    if (changes.require && !changes.require.includes('special') && specials === undefined) changes.specials = null;
    const services = await ctx.services();
    const updated = await services.passwordProfiles.update(name, changes).catch(rejected);
    await ctx.audit({ type: 'admin.password_profile.updated', detail: { profile: name, changed: Object.keys(changes) } });
    ctx.out.result([`Updated password profile ${name}`, ...describeProfile(updated)], profileJson(updated, await clientsUsing(ctx, name)));
  },
};

const list: Command = {
  group: 'password-profile',
  name: 'list',
  summary: 'Lists the password profiles (the built-in default first) and the portals using each.',
  options: {},
  async run(ctx) {
    const services = await ctx.services();
    const profiles = await services.passwordProfiles.list();
    const clients = await services.store.clients.list();
    const usedBy = new Map(profiles.map((p) => [p.name, [] as string[]]));
    for (const client of clients) {
      const name = typeof client.metadata.password_profile === 'string' ? client.metadata.password_profile : DEFAULT_PROFILE_NAME;
      usedBy.get(name)?.push(client.clientId);
    }
    const rows = profiles.map((p) => [
      p.name + (p.builtIn ? ' (built-in)' : ''),
      `${p.minLength}-${p.maxLength}`,
      p.require.join(','),
      p.require.includes('special') ? p.specials ?? 'any' : '',
      p.blocklist ? 'on' : 'off',
      p.notNames ? 'on' : 'off',
      p.history ? String(p.history) : 'off',
      (usedBy.get(p.name) ?? []).join(' '),
      p.updatedAt ? formatTime(p.updatedAt) : '',
    ]);
    ctx.out.result(
      table(['NAME', 'LENGTH', 'REQUIRE', 'SPECIALS', 'BLOCKLIST', 'NOT_NAMES', 'HISTORY', 'USED_BY', 'UPDATED'], rows),
      profiles.map((p) => profileJson(p, usedBy.get(p.name) ?? [])),
    );
  },
};

const remove: Command = {
  group: 'password-profile',
  name: 'remove',
  summary: 'Removes a password profile no portal uses any more.',
  options: {
    name: { type: 'string', value: 'NAME', description: 'the profile to remove', required: true },
  },
  details: ['Refused while a portal names it: its patients would silently fall back to the default rules.'],
  async run(ctx, args) {
    const name = args.requiredString('name').trim();
    const services = await ctx.services();
    await services.passwordProfiles.remove(name).catch(rejected);
    await ctx.audit({ type: 'admin.password_profile.removed', detail: { profile: name } });
    ctx.out.result(`Removed password profile ${name}`, { name, removed: true });
  },
};

export const passwordProfileCommands: Command[] = [add, update, list, remove];
