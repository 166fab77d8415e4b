// The facts every kind's decider reads (steps/facts.ts), gathered once per request: the flow's own
// state, the portal's policy, what each factor is for the account, the account's state. What needs
// I/O is remembered on the run until a step ran (it may have enrolled a factor or changed the account).
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import { NO_ACCOUNT_FACTS, type AccountFacts, type FlowFacts } from '../../steps/facts.ts';
import { factorFacts } from './factor-facts.ts';
import type { FlowRun } from './run.ts';

async function accountFacts(services: Services, run: FlowRun, account: AccountRecord | undefined): Promise<AccountFacts> {
  if (!account) return NO_ACCOUNT_FACTS;
  return {
    requiredActions: account.requiredActions,
    passwordChangeRequired: run.flow.state.passwordChange !== undefined,
  };
}

export async function flowFacts(services: Services, run: FlowRun, requiredAcr: string | undefined): Promise<FlowFacts> {
  const { account, flow } = run;
  run.factorFacts ??= factorFacts(services, account);
  run.accountFacts ??= accountFacts(services, run, account);
  const { state } = flow;
  return {
    proofs: state.proofs,
    policy: run.policy,
    requiredAcr,
    factors: await run.factorFacts,
    chosenFactor: state.chosenFactor,
    defaultFactor: typeof account?.settings.defaultFactor === 'string' ? account.settings.defaultFactor : undefined,
    enrolling: state.enrolling,
    reauthenticated: state.reauthenticated === true,
    enrolledInFlow: state.enrolledInFlow,
    account: await run.accountFacts,
    actionsDone: state.actionsDone,
    startedAt: flow.createdAt,
  };
}

/** Forgets what was read: a step ran, or a remembered device stood in. */
export function forgetFacts(run: FlowRun): void {
  run.factorFacts = undefined;
  run.accountFacts = undefined;
}
