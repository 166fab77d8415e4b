// The password lifecycle: a patient changes a password (forced at login, or on /account), the
// recovery flow of the next issue resets one, an operator issues a temporary one, and a login
// checks the typed password against the portal's profile. One service, so every way to a new
// password applies the same rules, history, revocation, notice and audit.
//
// Rules for a new password: the strictest combination of the default profile and the profiles of
// every portal the account signs in to (accounts/password-profiles.ts); not equal to the password
// typed as current; not equal to the last N passwords (N: the deepest history among them).
// Nothing is changed unless everything passes, and a failure says which field and which rule.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import { normalisePassword } from './password-hash.ts';
import { evaluateRules, type PasswordProblem, type RuleResult } from './password-policy.ts';
import { combineProfiles, type PasswordRules } from './password-profile.ts';
import { generateTemporaryPassword } from './temporary-password.ts';
import { deliverTemporaryPassword, type PortalSender } from './temporary-password-mail.ts';
import { limitRule } from './limits.ts';

/** Beyond any profile's maximum: longer input is refused before it reaches argon2. */
export const MAX_PASSWORD_INPUT = 1024;

export type PasswordField = 'current' | 'new' | 'confirm';

export type ChangeProblem =
  | PasswordProblem
  | 'required'
  | 'input_too_long'
  | 'invalid_characters'
  | 'current_wrong'
  | 'temporary_expired'
  | 'too_many_attempts';

export interface FieldProblem {
  field: PasswordField;
  problem: ChangeProblem;
}

/** Who asked and from where: written to the audit trail with every outcome. */
export interface LifecycleActor {
  /** `patient`, `operator:<name>`, `system`. */
  actor: string;
  ip?: string | null;
  userAgent?: string | null;
  /** The portal the patient is at (null on /account and in the CLI without --client). */
  clientId?: string | null;
  /** Its display name, for the notice mail ("bij het inloggen op ZINN cliëntportaal"). */
  portalName?: string;
}

export interface ChangeRequest extends LifecycleActor {
  current: string;
  next: string;
  confirm: string;
  /** Why: a required action at login, the account page, a recovery flow, or the first password of an activation. */
  via: 'forced' | 'account' | 'reset' | 'initial';
  /** The session the patient is in: it stays, every other session of the account ends. */
  keepSessionUid?: string | null;
}

export type ChangeResult =
  | { ok: true; rules: PasswordRules }
  | { ok: false; status: 400 | 401 | 413 | 429; problems: FieldProblem[]; rules: PasswordRules; results: RuleResult[] };

export interface TemporaryPasswordIssued {
  expiresAt: number;
}

/** Characters no one types into a password field: a form carrying them is broken or forged. */
const CONTROL = /\p{Cc}/u;

function inputProblem(value: string): ChangeProblem | undefined {
  if (value === '') return 'required';
  if (value.length > MAX_PASSWORD_INPUT) return 'input_too_long';
  if (!value.isWellFormed() || value.includes('\uFFFD') || CONTROL.test(value)) return 'invalid_characters';
  return undefined;
}

export class PasswordLifecycle {
  constructor(private readonly bundle: () => Services) {}

  private get services(): Services {
    return this.bundle();
  }

  /** The rules a new password of this account must meet, at this portal. */
  rulesFor(account: AccountRecord, clientId?: string | null): Promise<PasswordRules> {
    return this.services.passwordProfiles.rulesForAccount(account.id, clientId);
  }

  /**
   * At login, after the own password matched: the rules of the portal's own profile it breaks
   * (empty when it meets them, or the portal has no profile). The history is not among them: a
   * password does not become reused by being typed.
   */
  async portalProblems(account: AccountRecord, password: string, clientId: string | null): Promise<PasswordProblem[]> {
    const profile = await this.services.passwordProfiles.ofPortal(clientId);
    if (!profile) return [];
    const rules = { ...combineProfiles([profile]), history: 0 };
    return evaluateRules(rules, password, account).filter((r) => !r.ok).map((r) => r.problem);
  }

  /** Current + new + confirm: the forced change at login and the change on /account. */
  async change(account: AccountRecord, request: ChangeRequest): Promise<ChangeResult> {
    const rules = await this.rulesFor(account, request.clientId);
    const fail = async (status: 400 | 401 | 413 | 429, problems: FieldProblem[], results: RuleResult[] = []): Promise<ChangeResult> => {
      await this.audit(account, request, 'password.change_refused', { via: request.via, outcome: 'refused', problems: problems.map((p) => `${p.field}:${p.problem}`) });
      return { ok: false, status, problems, rules, results };
    };

    const shape: FieldProblem[] = [];
    for (const [field, value] of [['current', request.current], ['new', request.next], ['confirm', request.confirm]] as const) {
      const problem = inputProblem(value);
      if (problem) shape.push({ field, problem });
    }
    if (shape.length) return fail(shape.some((p) => p.problem === 'input_too_long') ? 413 : 400, shape);

    // The current password is a guess like any other: counted before it is evaluated, by the
    // account's lockout (as at login) and by the change form's own limit; given back when right.
    const { lockout, passwords, limits, config } = this.services;
    const failures = `pwd-change-fail:${account.id}`;
    const admission = await lockout.admitAccount(account.id);
    if (!admission.admitted || (await limits.hit(failures, limitRule(config.policy.passwords.changeFailures))) < 0) {
      return fail(429, [{ field: 'current', problem: 'too_many_attempts' }]);
    }
    const match = await passwords.match(account, request.current);
    if (match !== 'password' && match !== 'temporary') {
      return fail(401, [{ field: 'current', problem: match === 'temporary-expired' ? 'temporary_expired' : 'current_wrong' }]);
    }
    await limits.release(failures);
    await lockout.succeeded(account, account.username);
    return this.setNew(account, request, rules, { current: request.current }, fail);
  }

  /**
   * A new password without the current one, for a flow that proved the patient otherwise (the
   * recovery flow of the next issue: e-mail link or SMS code, plus the second factor).
   */
  async reset(account: AccountRecord, request: Omit<ChangeRequest, 'current' | 'via'> & { via?: 'reset' | 'initial' }): Promise<ChangeResult> {
    const full: ChangeRequest = { ...request, current: '', via: request.via ?? 'reset' };
    const rules = await this.rulesFor(account, request.clientId);
    const fail = async (status: 400 | 401 | 413 | 429, problems: FieldProblem[], results: RuleResult[] = []): Promise<ChangeResult> => {
      await this.audit(account, full, 'password.change_refused', { via: full.via, outcome: 'refused', problems: problems.map((p) => `${p.field}:${p.problem}`) });
      return { ok: false, status, problems, rules, results };
    };
    const shape: FieldProblem[] = [];
    for (const [field, value] of [['new', request.next], ['confirm', request.confirm]] as const) {
      const problem = inputProblem(value);
      if (problem) shape.push({ field, problem });
    }
    if (shape.length) return fail(shape.some((p) => p.problem === 'input_too_long') ? 413 : 400, shape);
    return this.setNew(account, full, rules, {}, fail);
  }

  private async setNew(
    account: AccountRecord,
    request: ChangeRequest,
    rules: PasswordRules,
    typed: { current?: string },
    fail: (status: 400, problems: FieldProblem[], results: RuleResult[]) => Promise<ChangeResult>,
  ): Promise<ChangeResult> {
    const { passwords, passwordProfiles } = this.services;
    const results = evaluateRules(rules, request.next, account);
    const problems: FieldProblem[] = results.filter((r) => !r.ok).map((r) => ({ field: 'new', problem: r.problem }));
    if (typed.current !== undefined && normalisePassword(typed.current) === normalisePassword(request.next)) {
      problems.push({ field: 'new', problem: 'same_as_current' });
    } else if (!problems.length && (await passwords.reused(account, request.next, rules.history))) {
      // Compared only once everything else passes: it costs one argon2 verification per hash kept.
      problems.push({ field: 'new', problem: 'reused' });
      for (const result of results) if (result.id === 'history') result.ok = false;
    }
    if (request.confirm !== request.next) problems.push({ field: 'confirm', problem: 'mismatch' });
    if (problems.length) return fail(400, problems, results);

    await passwords.set(account, request.next, { rules, keepHistory: await passwordProfiles.historyToKeep() });
    // Whoever knew the old password may be signed in somewhere: every other sign-in ends (the
    // session the patient is in stays); remembered devices went with the old hash (passwords.ts).
    // Portals with a back-channel logout endpoint are told (oidc/account-revocation.ts).
    const { records, logoutTokens } = await this.services.signIns.revokeSignIns(account.id, request.keepSessionUid ?? undefined);
    await this.audit(account, request, 'password.changed', { via: request.via, outcome: 'changed', profiles: rules.profiles, revoked: records, backchannel: logoutTokens });
    // The notice mail is the flow's notify hook's (every change happens in a flow: event password_changed).
    return { ok: true, rules };
  }

  /**
   * Mails a temporary password for the account (from the portal's sender, naming the portal, in
   * the account's language) and stores only its hash. Stored after the mail went out, so a failed
   * delivery leaves nothing behind. The own password keeps working until the patient changes it:
   * whoever can make us issue one (an operator, next issue's self-service) cannot lock anyone out.
   */
  async issueTemporary(account: AccountRecord, portal: PortalSender | undefined, who: LifecycleActor): Promise<TemporaryPasswordIssued> {
    const { clock, config, passwords } = this.services;
    const password = generateTemporaryPassword();
    const issuedAt = clock.now();
    const expiresAt = issuedAt + config.policy.passwords.temporaryTtlSeconds * 1000;
    try {
      await deliverTemporaryPassword(this.services, account, { password, expiresAt, portal });
    } catch (error) {
      await this.audit(account, who, 'password.temporary_issued', { outcome: 'mail_failed' });
      throw error;
    }
    await passwords.setTemporary(account, password, { issuedAt, expiresAt, clientId: portal?.clientId ?? null });
    await this.audit(account, who, 'password.temporary_issued', { outcome: 'sent', expiresAt });
    return { expiresAt };
  }

  private audit(account: AccountRecord, who: LifecycleActor, type: string, detail: Record<string, unknown>): Promise<void> {
    return this.services.audit.record({
      type,
      accountId: account.id,
      clientId: who.clientId ?? null,
      ip: who.ip ?? null,
      actor: who.actor,
      userAgent: who.userAgent ?? null,
      detail,
    });
  }
}
