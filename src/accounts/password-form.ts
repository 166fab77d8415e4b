// What a password form shows, worked out once for every page that sets a password (the forced
// change at login, /account, next issue's reset): every rule before the patient types, each rule
// that failed after, and one message per failed rule or field for the error summary, all as
// locale keys with their values (the page translates). The server decides; the checklist script
// (public/static/password-rules.js) only mirrors the rules it can check in the browser.
import type { FieldProblem, PasswordField } from './password-lifecycle.ts';
import { ruleLines, type RuleId, type RuleResult } from './password-policy.ts';
import type { PasswordRules } from './password-profile.ts';
import { MAX_PASSWORD_INPUT } from './password-lifecycle.ts';

export interface RuleView {
  id: RuleId;
  key: string;
  vars: Record<string, string | number>;
  /** neutral before anything was posted; met / failed after. */
  state: 'neutral' | 'met' | 'failed';
  /** What the browser script needs to check it (data-* attributes); empty: the server decides. */
  check: Record<string, string>;
}

export interface ProblemView {
  field: PasswordField;
  key: string;
  vars: Record<string, string | number>;
}

export interface PasswordFormView {
  rules: RuleView[];
  problems: ProblemView[];
  /** Problems per field, for the messages next to each input. */
  fieldProblems: Record<PasswordField, ProblemView[]>;
}

function ruleKey(line: { id: RuleId; params: Record<string, string | number> }, history: number): string {
  if (line.id === 'special') return typeof line.params.chars === 'string' ? 'password_rules.special_from' : 'password_rules.special';
  if (line.id === 'history' && history === 1) return 'password_rules.history_one';
  return `password_rules.${line.id}`;
}

function checkOf(line: { id: RuleId; params: Record<string, string | number> }): Record<string, string> {
  switch (line.id) {
    case 'min_length':
      return { 'data-rule': 'min', 'data-value': String(line.params.min) };
    case 'max_length':
      return { 'data-rule': 'max', 'data-value': String(line.params.max) };
    case 'digit':
    case 'upper':
    case 'lower':
      return { 'data-rule': line.id };
    case 'special':
      return typeof line.params.chars === 'string' ? { 'data-rule': 'special', 'data-value': line.params.chars } : { 'data-rule': 'special' };
    default:
      return {};
  }
}

export function passwordFormView(rules: PasswordRules, outcome?: { problems: FieldProblem[]; results: RuleResult[] }): PasswordFormView {
  const results = outcome?.results ?? [];
  const lines = ruleLines(rules);
  const views: RuleView[] = lines.map((line, index) => {
    const result = results.length === lines.length ? results[index] : undefined;
    return {
      id: line.id,
      key: ruleKey(line, rules.history),
      vars: line.params,
      state: result ? (result.ok ? 'met' : 'failed') : 'neutral',
      check: checkOf(line),
    };
  });
  const specials = rules.specialSets.filter((s): s is string => s !== null);
  const problems: ProblemView[] = (outcome?.problems ?? []).map(({ field, problem }) => {
    if (problem === 'needs_special' && specials.length) return { field, key: `password_change.errors.${field}.needs_special_from`, vars: { chars: specials.join(' ') } };
    const vars: Record<string, string | number> = { min: rules.minLength, max: problem === 'input_too_long' ? Math.min(rules.maxLength, MAX_PASSWORD_INPUT) : rules.maxLength, count: rules.history };
    return { field, key: `password_change.errors.${field}.${problem}`, vars };
  });
  const fieldProblems: Record<PasswordField, ProblemView[]> = { current: [], new: [], confirm: [] };
  for (const problem of problems) fieldProblems[problem.field].push(problem);
  return { rules: views, problems, fieldProblems };
}
