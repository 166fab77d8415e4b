import { describe, expect, it } from 'vitest';
import { generateTemporaryPassword, TEMPORARY_PASSWORD_ALPHABET } from '../../src/accounts/temporary-password.ts';
import { checkPassword } from '../../src/accounts/password-policy.ts';
import { combineProfiles, defaultProfile } from '../../src/accounts/password-profile.ts';

describe('temporary passwords', () => {
  const samples = Array.from({ length: 500 }, () => generateTemporaryPassword());

  it('are three groups of four, at least 12 characters without the hyphens', () => {
    for (const password of samples) {
      expect(password).toMatch(/^[^-]{4}-[^-]{4}-[^-]{4}$/);
      expect(password.replaceAll('-', '')).toHaveLength(12);
    }
  });

  it('never hold a character people mix up', () => {
    for (const ambiguous of '0Oo1lIi5Ss2Zz8BbGgqUuVv') expect(TEMPORARY_PASSWORD_ALPHABET).not.toContain(ambiguous);
    for (const password of samples) for (const c of password.replaceAll('-', '')) expect(TEMPORARY_PASSWORD_ALPHABET).toContain(c);
  });

  it('hold a digit and both cases in every group, so they also pass composition rules', () => {
    for (const password of samples) {
      for (const group of password.split('-')) {
        expect(group).toMatch(/\d/);
        expect(group).toMatch(/[A-Z]/);
        expect(group).toMatch(/[a-z]/);
      }
    }
    const zinn = combineProfiles([{ ...defaultProfile({ minLength: 8, maxLength: 128 }), name: 'zinn', require: ['digit', 'special', 'upper', 'lower'], specials: '-@#$%^&`[+=](.{)' }]);
    for (const password of samples.slice(0, 20)) expect(checkPassword(zinn, password, {})).toEqual([]);
  });

  it('do not repeat', () => {
    expect(new Set(samples).size).toBe(samples.length);
  });
});
