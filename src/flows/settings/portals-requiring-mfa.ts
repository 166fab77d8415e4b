// Which portals an account uses, for the account page's one refusal: the last second factor may
// not be removed while a portal the patient signs in to requires MFA (the next login there would
// force a new one at once, or fail at a portal that accepts only the removed method).
//
// "Uses" is the password lifecycle's record of the portals an account completed a login at
// (`store.accountPortals`, written by the login kind when a login is handed to a portal; the
// account page itself is not a portal). One source of truth: the password rules of an account read
// the same list. It is not subject to audit retention, so a portal used once counts until the
// account is erased.
import type { Services } from '../../services.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';

/** The name of a portal the account has signed in to that requires MFA, if any. */
export async function portalRequiringMfa(services: Services, accountId: string): Promise<string | undefined> {
  for (const { clientId } of await services.store.accountPortals.listByAccount(accountId)) {
    const client = await services.store.clients.find(clientId);
    if (!client) continue;
    const policy = policyFromMetadata(client.metadata);
    if (policy.mfa === 'required') return policy.name;
  }
  return undefined;
}
