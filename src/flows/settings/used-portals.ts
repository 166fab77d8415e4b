// Which portals an account uses, for the account page's one refusal: the last second factor may
// not be removed while a portal the patient signs in to requires MFA (the next login there would
// force a new one at once, or fail at a portal that accepts only the removed method).
//
// "Uses" is read from the audit trail: every login handed to a portal is recorded as
// `login.completed` with the portal's client id (hooks/audit-hook.ts). The password lifecycle
// keeps its own list of the portals an account signs in to; once merged, this reads that instead.
// With audit retention set, a portal not signed in to within it no longer counts as used.
import type { Services } from '../../services.ts';
import { policyFromMetadata } from '../../oidc/client-policy.ts';
import { ACCOUNT_CLIENT_ID } from '../../oidc/sessions.ts';

const LOOKED_AT = 1000;

/** The name of a portal the account has signed in to that requires MFA, if any. */
export async function portalRequiringMfa(services: Services, accountId: string): Promise<string | undefined> {
  const events = await services.store.audit.list({ accountId, type: 'login.completed', limit: LOOKED_AT });
  const clientIds = new Set(events.map((e) => e.clientId).filter((id): id is string => typeof id === 'string' && id !== ACCOUNT_CLIENT_ID));
  for (const clientId of clientIds) {
    const client = await services.store.clients.find(clientId);
    if (!client) continue;
    const policy = policyFromMetadata(client.metadata);
    if (policy.mfa === 'required') return policy.name;
  }
  return undefined;
}
