// Checking a password against its rules (accounts/password-profile.ts). The default rules are NIST
// SP 800-63B-4 §3.1.1.2: a length range, a blocklist of common passwords (shipped in config/) and
// nothing derived from the user's own name; NIST advises against composition rules (they push
// people to `Welkom01!`), but a portal's profile may still demand them, and then we check them.
//
// `evaluateRules` answers per rule, so a page can show every rule before the patient types and
// mark each one that failed afterwards; `checkPassword` is the list of problems.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalisePassword } from './password-hash.ts';
import type { PasswordRules } from './password-profile.ts';

export type PasswordProblem =
  | 'too_short'
  | 'too_long'
  | 'needs_digit'
  | 'needs_upper'
  | 'needs_lower'
  | 'needs_special'
  | 'common'
  | 'contains_name'
  /** Equal to one of the previous passwords the history keeps (accounts/password-lifecycle.ts). */
  | 'reused'
  /** The new password is the one the patient signs in with now. */
  | 'same_as_current'
  | 'mismatch';

/** At least a length range; the other rules default to the NIST default profile's. */
export type PasswordPolicy = Pick<PasswordRules, 'minLength' | 'maxLength'> & Partial<Omit<PasswordRules, 'minLength' | 'maxLength'>>;

export type RuleId = 'min_length' | 'max_length' | 'digit' | 'upper' | 'lower' | 'special' | 'not_common' | 'no_names' | 'history';

export interface RuleLine {
  id: RuleId;
  /** Values the rule's text needs, e.g. `{ min: 8 }` or `{ chars: '-@#' }`. */
  params: Record<string, string | number>;
  /** The problem a password that breaks this rule has. */
  problem: PasswordProblem;
}

export interface RuleResult extends RuleLine {
  ok: boolean;
}

export interface Personal {
  username?: string | null;
  familyName?: string | null;
  givenName?: string | null;
  email?: string | null;
}

let blocklist: Set<string> | undefined;
function commonPasswords(): Set<string> {
  if (!blocklist) {
    const file = fileURLToPath(new URL('../../config/common-passwords.txt', import.meta.url));
    blocklist = new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => line.trim().toLowerCase())
        .filter((line) => line && !line.startsWith('#')),
    );
  }
  return blocklist;
}

function isCommon(password: string): boolean {
  const lower = password.toLowerCase();
  const list = commonPasswords();
  // `Welkom2026!` is as guessable as `welkom`: strip what people append.
  const base = lower.replace(/[\d\W_]+$/u, '');
  return list.has(lower) || (base.length >= 4 && list.has(base));
}

function containsName(password: string, personal: Personal): boolean {
  const lower = password.toLowerCase();
  const names = [personal.username, personal.familyName, personal.givenName, personal.email?.split('@')[0]]
    .filter((n): n is string => Boolean(n && n.length >= 3))
    .map((n) => n.normalize('NFKC').toLowerCase());
  return names.some((name) => lower.includes(name));
}

const DIGIT = /\p{Nd}/u;
const UPPER = /\p{Lu}/u;
const LOWER = /\p{Ll}/u;
const ALPHANUMERIC = /[\p{L}\p{N}]/u;

function hasSpecial(chars: readonly string[], set: string | null): boolean {
  if (set === null) return chars.some((c) => !ALPHANUMERIC.test(c) && c.trim() !== '');
  const allowed = new Set(set);
  return chars.some((c) => allowed.has(c));
}

/** The rules in the order a page lists them. */
export function ruleLines(policy: PasswordPolicy): RuleLine[] {
  const lines: RuleLine[] = [
    { id: 'min_length', params: { min: policy.minLength }, problem: 'too_short' },
    { id: 'max_length', params: { max: policy.maxLength }, problem: 'too_long' },
  ];
  if (policy.digit) lines.push({ id: 'digit', params: {}, problem: 'needs_digit' });
  if (policy.upper) lines.push({ id: 'upper', params: {}, problem: 'needs_upper' });
  if (policy.lower) lines.push({ id: 'lower', params: {}, problem: 'needs_lower' });
  for (const set of policy.specialSets ?? []) lines.push({ id: 'special', params: set === null ? {} : { chars: set }, problem: 'needs_special' });
  if (policy.blocklist ?? true) lines.push({ id: 'not_common', params: {}, problem: 'common' });
  if (policy.notNames ?? true) lines.push({ id: 'no_names', params: {}, problem: 'contains_name' });
  if (policy.history) lines.push({ id: 'history', params: { count: policy.history }, problem: 'reused' });
  return lines;
}

/**
 * Every rule with whether the password meets it. `history` is reported as met: it needs the
 * stored hashes, which `PasswordLifecycle` compares.
 */
export function evaluateRules(policy: PasswordPolicy, password: string, personal: Personal): RuleResult[] {
  const normalised = normalisePassword(password);
  const chars = [...normalised];
  return ruleLines(policy).map((line) => {
    switch (line.id) {
      case 'min_length':
        return { ...line, ok: chars.length >= policy.minLength };
      case 'max_length':
        return { ...line, ok: chars.length <= policy.maxLength };
      case 'digit':
        return { ...line, ok: DIGIT.test(normalised) };
      case 'upper':
        return { ...line, ok: UPPER.test(normalised) };
      case 'lower':
        return { ...line, ok: LOWER.test(normalised) };
      case 'special':
        return { ...line, ok: hasSpecial(chars, typeof line.params.chars === 'string' ? line.params.chars : null) };
      case 'not_common':
        return { ...line, ok: !isCommon(normalised) };
      case 'no_names':
        return { ...line, ok: !containsName(normalised, personal) };
      case 'history':
        return { ...line, ok: true };
    }
  });
}

/** The problems of a password under `policy`, each once, in the order of the rules. */
export function checkPassword(policy: PasswordPolicy, password: string, personal: Personal): PasswordProblem[] {
  const failed = evaluateRules(policy, password, personal).filter((r) => !r.ok).map((r) => r.problem);
  return [...new Set(failed)];
}
