// What each registered factor is for one account (role, strength, enrolled, enrollable): the facts
// the step engine and the proof rules decide on. Read through the registry, so flows never name a
// factor.
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import { allFactors } from '../../factors/registry.ts';
import type { FactorFacts } from '../../policy/proof-rules.ts';

/** The facts for `account`; without an account nothing is enrolled. */
export async function factorFacts(services: Services, account: AccountRecord | undefined): Promise<FactorFacts[]> {
  return Promise.all(allFactors().map(async (f) => ({
    id: f.id,
    role: f.role,
    positions: f.positions,
    strength: f.strength,
    phishingResistant: f.phishingResistant === true,
    enrollable: f.enrollable,
    enrolled: account ? await f.isEnrolled(services, account) : false,
  })));
}

/** The factor's role, for proofs read back from a session record. */
export function roleOf(factorId: string): FactorFacts['role'] | undefined {
  return allFactors().find((f) => f.id === factorId)?.role;
}
