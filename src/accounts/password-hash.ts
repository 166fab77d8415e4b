// argon2id at OWASP's minimum (19 MiB, t=2, p=1). Passwords are NFKC-normalised first so the
// same password typed on another keyboard or OS (composed vs decomposed é) still matches.
import { hash, verify } from '@node-rs/argon2';

// @node-rs/argon2's Algorithm is an ambient const enum (not importable as a value): 2 = Argon2id.
const ARGON2ID = 2;

const PARAMS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

export function hashPassword(password: string): Promise<string> {
  return hash(normalisePassword(password), PARAMS);
}

export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  try {
    return await verify(encoded, normalisePassword(password));
  } catch {
    return false;
  }
}

// Verified against when the account does not exist, so unknown users cost the same time.
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword('decoy-password-for-equal-timing');
  return decoy;
}
