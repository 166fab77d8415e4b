// Security notices (accounts/security-notices.ts): the patient hears, on the channels they already
// had, whenever something that can sign in as them is added, changed or removed — a second factor
// set up, set up again or removed, a new phone number or e-mail address, new recovery codes, a new
// password. Sent
// beside the flow: a failing mail server is logged (masked) and audited, the flow goes on. Whether
// a binding was allowed at all is decided before, by the one rule in policy/proof-rules.ts.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { FlowEvent } from '../steps/events.ts';
import { sendSecurityNotice } from '../accounts/security-notices.ts';
import { findFactor } from '../factors/registry.ts';
import type { Translate } from '../i18n/i18n.ts';
import type { AfterHook } from './hook.ts';

type Bound = Extract<FlowEvent, { type: 'authenticator_bound' }>;

/** The method as the factor words it ("Sms naar *****78"), or its name on the account page. */
function describe(services: Services, account: AccountRecord, factorId: string): (t: Translate) => Promise<string> {
  const factor = findFactor(factorId);
  return (t) => (factor ? factor.describe(services, account, t) : Promise.resolve(t(`settings.method.${factorId}`)));
}

function notifyBinding(services: Services, after: AccountRecord, event: Bound, portal: string | undefined): void {
  const { before } = event;
  // The SMS goes to the number the patient had proved before this binding, never to one it brought.
  const verifiedBefore = before.phoneVerified ? services.accounts.phoneOf(before) : null;
  if (after.email !== before.email) sendSecurityNotice(services, after, { kind: 'email_changed', previousEmail: before.email, portal, phoneBefore: verifiedBefore });
  const phoneBefore = services.accounts.phoneOf(before);
  if (phoneBefore !== null && services.accounts.phoneOf(after) !== phoneBefore) {
    sendSecurityNotice(services, after, { kind: 'phone_changed', portal, phoneBefore: verifiedBefore });
    return;
  }
  sendSecurityNotice(services, after, { kind: event.replaced ? 'method_replaced' : 'method_added', method: describe(services, after, event.factor), portal, phoneBefore: verifiedBefore });
}

export const notifyHook: AfterHook = {
  name: 'notify',
  async run({ services, account, portal }, events) {
    if (!account) return;
    for (const event of events) {
      if (event.type === 'authenticator_bound') notifyBinding(services, account, event, portal);
      else if (event.type === 'factor_setting' && event.replaced) sendSecurityNotice(services, account, { kind: 'method_replaced', method: async (t) => t(`settings.method.${event.factor}`), portal });
      // Removing a method weakens the account as much as adding one may open it: the patient hears of both.
      else if (event.type === 'factor_removed') sendSecurityNotice(services, account, { kind: 'method_removed', method: describe(services, account, event.factor), portal });
      else if (event.type === 'password_changed') sendSecurityNotice(services, account, { kind: 'password_changed', portal });
    }
  },
};
