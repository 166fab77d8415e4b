// The rules about proofs that several places need, decided here once so they cannot drift apart
// (the login and settings deciders, the required actions, the session check oidc-provider runs):
//  - which second factors a portal accepts, and when a recovery code stands in for one (the login
//    step engine, and the session check oidc-provider runs before it reuses a session);
//  - which proof may bind a new authenticator to an account — a factor, a phone number, an e-mail
//    address — during a login or on /account: a fresh proof of the account's strongest factor;
//  - whether the proofs behind a session satisfy a portal: its MFA methods, fresh proofs where it
//    forbids remembered devices, a demanded level, a maximum age.
// Pure functions: no I/O, so each rule is testable on its own.
import { ACR, acrRank, deriveAssurance, type Acr, type Proof } from '../oidc/assurance.ts';
import { acceptsMethod, type PortalPolicy } from '../oidc/client-policy.ts';

/** What one registered factor is for one account. */
export interface FactorFacts {
  id: string;
  role: 'first' | 'second' | 'recovery';
  strength: 1 | 2;
  enrolled: boolean;
  enrollable: boolean;
}

/** The second factors a portal accepts (its `mfa_methods`), whether or not the account has them. */
export function acceptedSecondFactors(policy: PortalPolicy, facts: readonly FactorFacts[]): FactorFacts[] {
  return facts.filter((f) => f.role === 'second' && acceptsMethod(policy, f.id));
}

/**
 * Whether `proof` is a second factor the portal accepts. A recovery code stands in for the
 * account's factors, so it counts only where the account has a method the portal accepts: a
 * recovery code never satisfies a portal that requires a method the account lacks.
 */
export function provesAcceptedSecondFactor(proof: Proof, policy: PortalPolicy, facts: readonly FactorFacts[]): boolean {
  const fact = facts.find((f) => f.id === proof.factor);
  if (fact?.role === 'second') return acceptsMethod(policy, fact.id);
  if (fact?.role === 'recovery') return acceptedSecondFactors(policy, facts).some((f) => f.enrolled);
  return false;
}

/** Whether proving `factor` on top of `proofs` would reach `requiredAcr` (always, when no level is demanded). */
export function reachesAcr(proofs: readonly Proof[], factor: FactorFacts, requiredAcr: string | undefined): boolean {
  if (!requiredAcr) return true;
  return acrRank(deriveAssurance([...proofs, { factor: factor.id, amr: [], strength: factor.strength, at: 0 }]).acr) >= acrRank(requiredAcr);
}

/** The strength of the strongest second factor the account has; 0 when it has none. */
export function strongestStrength(facts: readonly FactorFacts[]): 0 | 1 | 2 {
  return facts.reduce<0 | 1 | 2>((best, f) => (f.role === 'second' && f.enrolled && f.strength > best ? f.strength : best), 0);
}

/**
 * The factors that may prove ownership before a new authenticator is bound to the account: its
 * enrolled second factors of its strongest strength, and its recovery codes (they exist for a lost
 * phone or app, so they count as strong). A weaker factor never enrols a stronger one: whoever
 * has the password and the mailbox must not be able to add their own app to an account with SMS.
 * Empty for an account without a second factor: then the password (entered again) is all there is.
 */
export function bindingFactors(facts: readonly FactorFacts[]): FactorFacts[] {
  const strongest = strongestStrength(facts);
  if (strongest === 0) return [];
  return facts.filter((f) => f.enrolled && ((f.role === 'second' && f.strength === strongest) || f.role === 'recovery'));
}

/** Whether `proofs` hold a fresh (typed now, not replayed by a remembered device) proof that may bind a new authenticator. */
export function provesBinding(proofs: readonly Proof[], facts: readonly FactorFacts[]): boolean {
  const binding = bindingFactors(facts);
  if (binding.length === 0) return proofs.some((p) => !p.replayed && facts.some((f) => f.id === p.factor && f.role === 'first'));
  return proofs.some((p) => !p.replayed && binding.some((f) => f.id === p.factor));
}

/**
 * The level a session needs to bind a new authenticator (what /account asks for): password plus
 * the strongest factor, so the same login rules as `bindingFactors` apply (a strength-2 factor or
 * a recovery code reaches substantial; an e-mail code low-mfa; the password alone low).
 */
export function bindingAcr(facts: readonly FactorFacts[]): Acr {
  const strongest = strongestStrength(facts);
  return strongest === 2 ? ACR.substantial : strongest === 1 ? ACR.lowMfa : ACR.low;
}

/** What a portal (or /account) demands of the proofs behind a session. */
export interface ProofRequirement {
  policy: PortalPolicy;
  requiredAcr: Acr | undefined;
  /** Every proof relied on must be at most this old (`max_age`, /account's ten minutes). */
  maxAgeMs: number | undefined;
}

/** Why a session's proofs fall short: the names of the login-prompt checks that ask for a login. */
export type Shortfall = 'mfa_required' | 'acr_too_weak' | 'proofs_too_old';

/**
 * What the proofs behind a session lack for `requirement` (empty: nothing). A portal that forbids
 * remembered devices counts only fresh proofs, and a session with a replayed proof is asked for
 * the code again there; an unknown session (no record, made before proofs were recorded) is
 * judged as having proved nothing.
 */
export function shortfalls(proofs: readonly Proof[], facts: readonly FactorFacts[], requirement: ProofRequirement, now: number): Shortfall[] {
  const { policy, requiredAcr, maxAgeMs } = requirement;
  const found: Shortfall[] = [];
  const counted = policy.rememberDevice ? proofs : proofs.filter((p) => !p.replayed);
  const replayedWhereForbidden = counted.length !== proofs.length;
  if (replayedWhereForbidden || (policy.mfa === 'required' && !counted.some((p) => provesAcceptedSecondFactor(p, policy, facts)))) found.push('mfa_required');
  if (requiredAcr && acrRank(deriveAssurance(counted).acr) < acrRank(requiredAcr)) found.push('acr_too_weak');
  if (maxAgeMs !== undefined && (counted.length === 0 || counted.some((p) => now - p.at > maxAgeMs))) found.push('proofs_too_old');
  return found;
}
