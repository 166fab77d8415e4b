// Facts for the unit tests of required actions and deciders: a patient signed in with the
// password at a portal without demands, with nothing enrolled and nothing stored, unless told.
import type { ActionFacts } from '../../src/actions/action.ts';
import type { FactorFacts } from '../../src/policy/proof-rules.ts';
import { policyFromMetadata } from '../../src/oidc/client-policy.ts';
import { NO_ACCOUNT_FACTS } from '../../src/steps/facts.ts';

/** The registered factors' shape, with `enrolled` for the ones named. */
export const factorFacts = (enrolled: readonly string[] = []): FactorFacts[] => [
  { id: 'password', role: 'first', positions: ['first'], strength: 1, enrolled: true, enrollable: false },
  { id: 'sms', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('sms'), enrollable: true },
  { id: 'email', role: 'second', positions: ['second'], strength: 1, enrolled: enrolled.includes('email'), enrollable: true },
  { id: 'totp', role: 'second', positions: ['second'], strength: 2, enrolled: enrolled.includes('totp'), enrollable: true },
  { id: 'recovery', role: 'recovery', positions: ['fallback'], strength: 2, enrolled: enrolled.includes('recovery'), enrollable: false },
];

export const passwordProof = { factor: 'password', amr: ['pwd'], strength: 1 as const, at: 0 };

export function actionFacts(overrides: Partial<ActionFacts> = {}): ActionFacts {
  return {
    proofs: [passwordProof],
    policy: policyFromMetadata({ client_id: 'p', redirect_uris: ['https://p.example/cb'] }),
    requiredAcr: undefined,
    factors: factorFacts(),
    chosenFactor: undefined,
    defaultFactor: undefined,
    enrolling: undefined,
    reauthenticated: false,
    enrolledInFlow: [],
    account: NO_ACCOUNT_FACTS,
    actionsDone: [],
    secondFactorMissing: false,
    ...overrides,
  };
}

/** Account facts with `stored` as the account's required actions. */
export function stored(...ids: string[]): ActionFacts['account'] {
  return { ...NO_ACCOUNT_FACTS, requiredActions: ids };
}
