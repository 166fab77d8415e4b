// What follows when a new authenticator was bound to an account — a second factor set up or set
// up again, a phone number or an e-mail address proved — in the login flow or on /account alike:
// the patient hears of it on the channels they already had (accounts/security-notices.ts).
// Whether the binding was allowed at all is decided before, by the one rule in proof-rules.ts.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { Factor } from '../factors/factor.ts';
import { sendSecurityNotice } from '../accounts/security-notices.ts';

export interface Binding {
  /** The account as it was before the step that bound the authenticator. */
  before: AccountRecord;
  factor: Factor;
  /** The factor was set up before (a new app, a new number): it was replaced, not added. */
  replaced: boolean;
  /** The portal of the login; undefined on the account page. */
  portal: string | undefined;
}

/** Sends the notices for a binding; returns the account as it is now. */
export async function afterBinding(services: Services, binding: Binding): Promise<AccountRecord> {
  const { before, factor, portal } = binding;
  const after = (await services.accounts.findById(before.id)) ?? before;
  if (after.email !== before.email) sendSecurityNotice(services, after, { kind: 'email_changed', previousEmail: before.email, portal });
  const phoneBefore = services.accounts.phoneOf(before);
  if (phoneBefore !== null && services.accounts.phoneOf(after) !== phoneBefore) {
    sendSecurityNotice(services, after, { kind: 'phone_changed', portal });
  } else {
    sendSecurityNotice(services, after, {
      kind: binding.replaced ? 'method_replaced' : 'method_added',
      method: (t) => factor.describe(services, after, t),
      portal,
    });
  }
  return after;
}
