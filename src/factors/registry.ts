// The one list of factors. Adding a factor: a folder under factors/, a view, a test file and a
// line here. Order is the order of "use another method".
import type { Factor } from './factor.ts';
import { passwordFactor } from './password/password-factor.ts';

const FACTORS: readonly Factor[] = [
  passwordFactor,
];

export function allFactors(): readonly Factor[] {
  return FACTORS;
}

export function findFactor(id: string): Factor | undefined {
  return FACTORS.find((f) => f.id === id);
}

export function secondFactors(): Factor[] {
  return FACTORS.filter((f) => f.role !== 'first');
}
