// Password rules from NIST SP 800-63B-4 §3.1.1.2 and the portals' manuals: a length range, a
// blocklist of common passwords (shipped in config/), and nothing derived from the user's own
// name. No composition rules: NIST advises against them, and they push users to `Welkom01!`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalisePassword } from './password-hash.ts';

export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'contains_name' | 'mismatch';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
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

export function checkPassword(
  policy: PasswordPolicy,
  password: string,
  personal: { username?: string | null; familyName?: string | null; givenName?: string | null; email?: string | null },
): PasswordProblem[] {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  const problems: PasswordProblem[] = [];
  if (length < policy.minLength) problems.push('too_short');
  if (length > policy.maxLength) problems.push('too_long');
  if (isCommon(normalised)) problems.push('common');
  const lower = normalised.toLowerCase();
  const names = [personal.username, personal.familyName, personal.givenName, personal.email?.split('@')[0]]
    .filter((n): n is string => Boolean(n && n.length >= 3))
    .map((n) => n.normalize('NFKC').toLowerCase());
  if (names.some((name) => lower.includes(name))) problems.push('contains_name');
  return problems;
}
