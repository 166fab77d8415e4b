// Temporary passwords (ZINN, Mijn Therapie Dossier): read from an e-mail and typed once, often on
// a phone, so they avoid characters people mix up (0/O/o, 1/l/I/i, 5/S, 2/Z, 8/B, u/v, and the
// letters b, G, g and q that look like 6 and 9) and come in groups of four: `Kx7m-Rt4p-Wc9h`.
// Twelve characters, each group with a digit and both cases, give about 60 bits: far beyond what
// 100 guesses before a hard lock could find. The hyphens are free readability (and a special
// character in ZINN's set).
import { randomInt } from 'node:crypto';

const UPPER = 'ACDEFHJKLMNPRTWXY';
const LOWER = 'acdefhjkmnprtwxy';
const DIGITS = '34679';
const ALPHABET = UPPER + LOWER + DIGITS;

export const TEMPORARY_PASSWORD_GROUPS = 3;
const GROUP = 4;

function pick(from: string): string {
  return from[randomInt(from.length)]!;
}

function shuffle(chars: string[]): string[] {
  for (let i = chars.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars;
}

/** A readable random password: 3 groups of 4 unambiguous characters, each group with a digit, an upper- and a lower-case letter. */
export function generateTemporaryPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < TEMPORARY_PASSWORD_GROUPS; g += 1) {
    const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), ...Array.from({ length: GROUP - 3 }, () => pick(ALPHABET))];
    groups.push(shuffle(chars).join(''));
  }
  return groups.join('-');
}

/** The characters a temporary password may hold (tests check the generator stays within them). */
export const TEMPORARY_PASSWORD_ALPHABET = ALPHABET;
