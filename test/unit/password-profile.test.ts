import { describe, expect, it } from 'vitest';
import {
  combineProfiles,
  defaultProfile,
  validateProfile,
  type PasswordProfile,
} from '../../src/accounts/password-profile.ts';
import { checkPassword, evaluateRules, ruleLines } from '../../src/accounts/password-policy.ts';

const ZINN_SPECIALS = '-@#$%^&`[+=](.{)';
const nist = defaultProfile({ minLength: 8, maxLength: 128 });
const zinn: PasswordProfile = { ...nist, name: 'zinn', require: ['digit', 'special'], specials: ZINN_SPECIALS, history: 5 };
const flynth: PasswordProfile = { ...nist, name: 'flynth', require: ['upper', 'digit'], notNames: true, history: 24 };
const person = { username: 'jdevries', familyName: 'Vries', givenName: 'Jan', email: 'jan.devries@example.nl' };

describe('password profiles: each rule', () => {
  it('the default is NIST: length, blocklist and names, no composition, no history', () => {
    const rules = combineProfiles([nist]);
    expect(rules).toMatchObject({ minLength: 8, maxLength: 128, digit: false, upper: false, lower: false, specialSets: [], blocklist: true, notNames: true, history: 0 });
    expect(checkPassword(rules, 'paars konijn fietst', person)).toEqual([]);
    expect(ruleLines(rules).map((l) => l.id)).toEqual(['min_length', 'max_length', 'not_common', 'no_names']);
  });

  it('minimum and maximum length, counted in characters', () => {
    const rules = combineProfiles([{ ...nist, name: 'long', minLength: 12, maxLength: 64 }]);
    expect(checkPassword(rules, 'ééééééééééé', person)).toEqual(['too_short']);
    expect(checkPassword(rules, 'éééééééééééé', person)).toEqual([]);
    expect(checkPassword(rules, 'x'.repeat(64), person)).toEqual([]);
    expect(checkPassword(rules, 'y'.repeat(65), person)).toEqual(['too_long']);
  });

  it('a digit, an upper-case and a lower-case letter, each on its own', () => {
    const rules = combineProfiles([{ ...nist, name: 'classes', require: ['digit', 'upper', 'lower'] }]);
    expect(checkPassword(rules, 'paars konijn fietst', person)).toEqual(['needs_digit', 'needs_upper']);
    expect(checkPassword(rules, 'PAARS KONIJN 7', person)).toEqual(['needs_lower']);
    expect(checkPassword(rules, 'Paars konijn 7', person)).toEqual([]);
    // Letters of other scripts count: Ä is upper case, ß lower case, ٣ a digit.
    expect(checkPassword(rules, 'Äßßßßßßß٣', person)).toEqual([]);
  });

  it('a special character from the portal\'s own set (ZINN), or any symbol when no set is named', () => {
    const ownSet = combineProfiles([zinn]);
    expect(checkPassword(ownSet, 'paarskonijn7!', person)).toEqual(['needs_special']);
    for (const c of ZINN_SPECIALS) expect(checkPassword(ownSet, `paarskonijn7${c}`, person), c).toEqual([]);
    const anySymbol = combineProfiles([{ ...nist, name: 'any', require: ['special'] }]);
    expect(checkPassword(anySymbol, 'paarskonijn7!', person)).toEqual([]);
    expect(checkPassword(anySymbol, 'paars konijn 7', person)).toEqual(['needs_special']);
  });

  it('the blocklist and the names can be switched off by a profile', () => {
    const loose = combineProfiles([{ ...nist, name: 'loose', blocklist: false, notNames: false }]);
    expect(checkPassword(loose, 'wachtwoord', person)).toEqual([]);
    expect(checkPassword(loose, 'xxjdevriesxx', person)).toEqual([]);
    const strict = combineProfiles([nist]);
    expect(checkPassword(strict, 'wachtwoord', person)).toEqual(['common']);
    expect(checkPassword(strict, 'xxjdevriesxx', person)).toEqual(['contains_name']);
    expect(checkPassword(strict, 'mijn-achternaam-is-vries', person)).toEqual(['contains_name']);
  });

  it('names the history depth as a rule', () => {
    expect(ruleLines(combineProfiles([zinn])).find((l) => l.id === 'history')).toEqual({ id: 'history', params: { count: 5 }, problem: 'reused' });
  });

  it('reports each rule with whether it is met, for the page', () => {
    const results = evaluateRules(combineProfiles([nist, zinn]), 'kort', person);
    expect(results.map((r) => [r.id, r.ok])).toEqual([
      ['min_length', false], ['max_length', true], ['digit', false], ['special', false], ['not_common', true], ['no_names', true], ['history', true],
    ]);
  });
});

describe('password profiles: the strictest combination', () => {
  it('longest minimum, shortest maximum, every class, the deepest history, every named set', () => {
    const other: PasswordProfile = { ...nist, name: 'other', minLength: 10, maxLength: 64, require: ['special'], specials: '!?', history: 3 };
    const rules = combineProfiles([nist, zinn, flynth, other]);
    expect(rules).toMatchObject({ minLength: 10, maxLength: 64, digit: true, upper: true, lower: false, blocklist: true, notNames: true, history: 24 });
    expect(rules.specialSets).toEqual([ZINN_SPECIALS, '!?']);
    expect(rules.profiles).toEqual(['default', 'zinn', 'flynth', 'other']);
    // One character of each portal's set: a password that passes the combination passes each one.
    expect(checkPassword(rules, 'Paarskonijn7-', person)).toEqual(['needs_special']);
    const good = 'Paarskonijn7-!';
    for (const profile of [nist, zinn, flynth, other]) expect(checkPassword(combineProfiles([profile]), good, person), profile.name).toEqual([]);
    expect(checkPassword(rules, good, person)).toEqual([]);
  });

  it('"any symbol" adds nothing once a portal names its own set', () => {
    const any: PasswordProfile = { ...nist, name: 'any', require: ['special'] };
    expect(combineProfiles([any, zinn]).specialSets).toEqual([ZINN_SPECIALS]);
    expect(combineProfiles([any]).specialSets).toEqual([null]);
  });
});

describe('password profiles: what an operator may store', () => {
  it('accepts ZINN\'s and Flynth\'s rules', () => {
    expect(validateProfile(zinn)).toEqual([]);
    expect(validateProfile(flynth)).toEqual([]);
  });

  it('refuses the reserved name, bad names, lengths outside NIST\'s range, a deep history and odd special sets', () => {
    expect(validateProfile({ ...zinn, name: 'default' })).toEqual(['name_reserved']);
    expect(validateProfile({ ...zinn, name: 'Has Space' })).toEqual(['name_invalid']);
    expect(validateProfile({ ...zinn, minLength: 6 })).toEqual(['min_length_range']);
    expect(validateProfile({ ...zinn, maxLength: 32 })).toEqual(['max_length_range']);
    expect(validateProfile({ ...zinn, minLength: 64, maxLength: 64 })).toEqual([]);
    expect(validateProfile({ ...zinn, history: 25 })).toEqual(['history_range']);
    expect(validateProfile({ ...zinn, specials: 'ab' })).toEqual(['specials_invalid']);
    expect(validateProfile({ ...zinn, specials: '- ' })).toEqual(['specials_invalid']);
    expect(validateProfile({ ...zinn, specials: '' })).toEqual(['specials_invalid']);
    expect(validateProfile({ ...zinn, require: ['digit'] })).toEqual(['specials_unused']);
  });
});
