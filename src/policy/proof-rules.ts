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
  /** The positions it can fill in a login (factors/factor.ts FactorPosition). */
  positions: readonly ('first' | 'second' | 'fallback')[];
  strength: 1 | 2;
  /** Its proofs reach the phishing-resistant level (a passkey). */
  phishingResistant?: boolean;
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
  const imagined = { factor: factor.id, amr: [], strength: factor.strength, at: 0, ...(factor.phishingResistant ? { phishingResistant: true } : {}) };
  return acrRank(deriveAssurance([...proofs, imagined]).acr) >= acrRank(requiredAcr);
}

/** The strength of the strongest second factor the account has; 0 when it has none. */
export function strongestStrength(facts: readonly FactorFacts[]): 0 | 1 | 2 {
  return facts.reduce<0 | 1 | 2>((best, f) => (f.role === 'second' && f.enrolled && f.strength > best ? f.strength : best), 0);
}

/**
 * How strong a second factor is for binding: its strength, and above all strength-2 factors the
 * phishing-resistant ones (a passkey). 0 for what is not an enrolled second factor.
 */
function bindingRank(f: FactorFacts): number {
  if (f.role !== 'second' || !f.enrolled) return 0;
  return f.strength * 2 + (f.phishingResistant ? 1 : 0);
}

function strongestRank(facts: readonly FactorFacts[]): number {
  return Math.max(0, ...facts.map(bindingRank));
}

/**
 * The factors that may prove ownership before a new authenticator is bound to the account: its
 * enrolled second factors of its strongest strength, and its recovery codes (they exist for a lost
 * phone or app, so they count as strong). A weaker factor never enrols a stronger one: whoever
 * has the password and the mailbox must not be able to add their own app to an account with SMS,
 * and whoever has the password and the SMS must not add their own passkey to an account with one
 * (a passkey is the strongest: phishing-resistant).
 * Empty for an account without a second factor: then the password (entered again) is all there is.
 */
export function bindingFactors(facts: readonly FactorFacts[]): FactorFacts[] {
  const strongest = strongestRank(facts);
  if (strongest === 0) return [];
  return facts.filter((f) => f.enrolled && ((f.role === 'second' && bindingRank(f) === strongest) || f.role === 'recovery'));
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
  const strongest = strongestRank(facts);
  return strongest >= 5 ? ACR.phishingResistant : strongest >= 4 ? ACR.substantial : strongest >= 2 ? ACR.lowMfa : ACR.low;
}

/** What a portal (or /account) demands of the proofs behind a session. */
export interface ProofRequirement {
  policy: PortalPolicy;
  /** The level the request and the portal's policy (`min_acr`) demand together. */
  requiredAcr: Acr | undefined;
  /**
   * The level the request itself demands (`acr_values`, an `acr` claims request): it is proved
   * now, so only fresh proofs count towards it — never a remembered device, whatever the portal
   * allows. A portal that wants devices to count sets `min_acr` (its policy) instead.
   */
  requestedAcr?: Acr | undefined;
  /** Every proof relied on must be at most this old (`max_age`, /account's ten minutes). */
  maxAgeMs: number | undefined;
}

/** The login that made the proofs (its flow's start, and when the session got it), on our clock. */
export interface LoginTimes {
  startedAt: number;
  completedAt: number;
}

/**
 * Whether proofs are too old for `maxAgeMs`, measured from the login that made them, as OIDC's
 * max_age is measured from the authentication: the login must have completed within `maxAgeMs`,
 * and none of its proofs may be older than `maxAgeMs` at the login's start (the flow starts right
 * after the authorization request). So a slow but complete login — a patient who needs two minutes
 * for the SMS at a portal with max_age=60 — is not too old on arrival, while a step-up's password
 * seeded from an old session still is. Without the login's times (older records), each proof is
 * judged by its own age now.
 */
function tooOld(proofs: readonly Proof[], maxAgeMs: number, now: number, login: LoginTimes | undefined): boolean {
  if (proofs.length === 0) return true;
  const { startedAt, completedAt } = login ?? { startedAt: now, completedAt: now };
  return now - completedAt > maxAgeMs || proofs.some((p) => p.at < startedAt - maxAgeMs);
}

/** Why a session's proofs fall short: the names of the login-prompt checks that ask for a login. */
export type Shortfall = 'mfa_required' | 'acr_too_weak' | 'proofs_too_old';

/**
 * What the proofs behind a session lack for `requirement` (empty: nothing). A portal that forbids
 * remembered devices counts only fresh proofs, and a session with a replayed proof is asked for
 * the code again there; a level the request demands counts only fresh proofs anywhere; an unknown
 * session (no record, made before proofs were recorded) is judged as having proved nothing.
 */
export function shortfalls(proofs: readonly Proof[], facts: readonly FactorFacts[], requirement: ProofRequirement, now: number, login?: LoginTimes): Shortfall[] {
  const { policy, requiredAcr, maxAgeMs } = requirement;
  const found: Shortfall[] = [];
  const counted = policy.rememberDevice ? proofs : proofs.filter((p) => !p.replayed);
  const replayedWhereForbidden = counted.length !== proofs.length;
  if (replayedWhereForbidden || (policy.mfa === 'required' && !counted.some((p) => provesAcceptedSecondFactor(p, policy, facts)))) found.push('mfa_required');
  const fresh = proofs.filter((p) => !p.replayed);
  if ((requiredAcr && acrRank(deriveAssurance(counted).acr) < acrRank(requiredAcr))
    || (requirement.requestedAcr && acrRank(deriveAssurance(fresh).acr) < acrRank(requirement.requestedAcr))) found.push('acr_too_weak');
  if (maxAgeMs !== undefined && tooOld(counted, maxAgeMs, now, login)) found.push('proofs_too_old');
  return found;
}
