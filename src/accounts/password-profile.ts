// Password profiles: the rules a portal holds its patients' passwords to (ZINN: 8 characters, a
// digit, a special character from its own set, not a previous password; Flynth: an upper-case
// letter, a digit, not the surname, not used before). The built-in `default` profile is NIST SP
// 800-63B-4 §3.1.1.2: a length range, the blocklist and no own names, no composition rules and no
// history. A portal that names no profile gets only the default.
//
// A patient who signs in to several portals has one password, so it must satisfy all of them at
// once: `combineProfiles` takes the strictest of each rule (longest minimum, shortest maximum,
// every required class, each portal's own special set, the deepest history).

export const CHARACTER_CLASSES = ['digit', 'upper', 'lower', 'special'] as const;
export type CharacterClass = (typeof CHARACTER_CLASSES)[number];

export const DEFAULT_PROFILE_NAME = 'default';

/** NIST SP 800-63B-4 wants at least 64 characters allowed; 1024 bounds argon2's input. */
export const PROFILE_LIMITS = {
  minLength: { min: 8, max: 64 },
  maxLength: { min: 64, max: 1024 },
  history: { max: 24 },
  specials: { max: 64 },
} as const;

export interface PasswordProfile {
  name: string;
  minLength: number;
  maxLength: number;
  /** Character classes that must each appear at least once. */
  require: CharacterClass[];
  /** What counts as `special`; null: any character that is neither a letter nor a digit. */
  specials: string | null;
  /** Refuse passwords on the shipped list of common passwords. */
  blocklist: boolean;
  /** Refuse passwords containing the username, given name, family name or e-mail name. */
  notNames: boolean;
  /** How many previous passwords (the current one included) a new one may not equal; 0: off. */
  history: number;
}

/** The rules one password is held to: one profile, or several combined. */
export interface PasswordRules {
  minLength: number;
  maxLength: number;
  digit: boolean;
  upper: boolean;
  lower: boolean;
  /** Each entry is a set of which at least one character must appear; null: any non-alphanumeric. */
  specialSets: (string | null)[];
  blocklist: boolean;
  notNames: boolean;
  history: number;
  /** The profiles these rules came from, for audit and operators. */
  profiles: string[];
}

export function defaultProfile(lengths: { minLength: number; maxLength: number }): PasswordProfile {
  return {
    name: DEFAULT_PROFILE_NAME,
    minLength: lengths.minLength,
    maxLength: lengths.maxLength,
    require: [],
    specials: null,
    blocklist: true,
    notNames: true,
    history: 0,
  };
}

const NAME = /^[a-z0-9][a-z0-9-]{0,39}$/;
// Letters, digits, white space and control or invisible characters cannot be "special": a set
// holding them would let a plain word pass, or be impossible to type and check by eye.
const NOT_SPECIAL = /[\p{L}\p{N}\p{White_Space}\p{C}]/u;

export type ProfileProblem =
  | 'name_invalid'
  | 'name_reserved'
  | 'name_taken'
  | 'min_length_range'
  | 'max_length_range'
  | 'min_above_max'
  | 'history_range'
  | 'specials_invalid'
  | 'specials_unused';

/** What is wrong with a profile an operator wants to store; empty when it is fine. */
export function validateProfile(profile: PasswordProfile): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  if (!NAME.test(profile.name)) problems.push('name_invalid');
  else if (profile.name === DEFAULT_PROFILE_NAME) problems.push('name_reserved');
  const { minLength, maxLength, history, specials } = PROFILE_LIMITS;
  const whole = (n: number) => Number.isInteger(n);
  if (!whole(profile.minLength) || profile.minLength < minLength.min || profile.minLength > minLength.max) problems.push('min_length_range');
  if (!whole(profile.maxLength) || profile.maxLength < maxLength.min || profile.maxLength > maxLength.max) problems.push('max_length_range');
  if (profile.minLength > profile.maxLength) problems.push('min_above_max');
  if (!whole(profile.history) || profile.history < 0 || profile.history > history.max) problems.push('history_range');
  if (profile.specials !== null) {
    const chars = [...profile.specials];
    if (!chars.length || chars.length > specials.max || chars.some((c) => NOT_SPECIAL.test(c))) problems.push('specials_invalid');
    else if (!profile.require.includes('special')) problems.push('specials_unused');
  }
  return problems;
}

/** The strictest combination: a password that passes it passes each profile on its own. */
export function combineProfiles(profiles: readonly PasswordProfile[]): PasswordRules {
  if (!profiles.length) throw new TypeError('combineProfiles needs at least one profile');
  const requires = (c: CharacterClass) => profiles.some((p) => p.require.includes(c));
  const sets = new Set(profiles.filter((p) => p.require.includes('special')).map((p) => p.specials));
  // A character of any named set is a non-alphanumeric character, so "any special" adds nothing
  // once some portal names its own set.
  const hasNamedSet = [...sets].some((s) => s !== null);
  const specialSets = [...sets].filter((s) => s !== null || !hasNamedSet);
  const minLength = Math.max(...profiles.map((p) => p.minLength));
  return {
    minLength,
    // Every profile allows at least 64, so the shortest maximum never falls below a minimum (≤ 64).
    maxLength: Math.max(minLength, Math.min(...profiles.map((p) => p.maxLength))),
    digit: requires('digit'),
    upper: requires('upper'),
    lower: requires('lower'),
    specialSets,
    blocklist: profiles.some((p) => p.blocklist),
    notNames: profiles.some((p) => p.notNames),
    history: Math.max(...profiles.map((p) => p.history)),
    profiles: profiles.map((p) => p.name),
  };
}
