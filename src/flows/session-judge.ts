// The session check oidc-provider runs in its login prompt (oidc/provider.ts) before it reuses a
// session for a portal: the rules are the flows' own (policy/proof-rules.ts), handed to the oidc layer
// as a function, so oidc/ never imports flows or factors.
import type { Services } from '../services.ts';
import type { SessionJudge } from '../oidc/session-proofs.ts';
import { factorFacts, roleOf } from './kit/factor-facts.ts';
import { shortfalls } from '../policy/proof-rules.ts';

export function sessionJudge(services: Services): SessionJudge {
  return async ({ accountId, proofs, policy, requiredAcr, requestedAcr, maxAgeSeconds, login }) => {
    // Which factors the account has matters only for a recovery code (it stands in for a method
    // the account has and the portal accepts); other proofs are judged on their own, without
    // reading the account's credentials on every authorization request.
    const needsEnrolment = policy.mfa === 'required' && proofs.some((p) => roleOf(p.factor) === 'recovery');
    const account = needsEnrolment ? await services.accounts.findById(accountId) : undefined;
    const facts = await factorFacts(services, account);
    const maxAgeMs = maxAgeSeconds === undefined ? undefined : maxAgeSeconds * 1000;
    return shortfalls(proofs, facts, { policy, requiredAcr, requestedAcr, maxAgeMs }, services.clock.now(), login);
  };
}
