// Audit: every event a flow recorded goes to the audit trail, named after the flow kind
// (`login.completed`, `settings.factor_removed`), with the account, portal and address — never a
// secret: events carry ids and factor names only. What a step checked itself (a wrong code, a
// sent message) the step audits where it happens.
import type { FlowEvent } from '../steps/events.ts';
import type { AfterHook } from './hook.ts';

/** The audit type's suffix and detail of an event; undefined for events another hook reports. */
function entry(event: FlowEvent): { name: string; detail?: Record<string, unknown> } | undefined {
  switch (event.type) {
    case 'completed':
      return { name: 'completed', detail: event.detail };
    case 'remembered_device':
      return { name: 'remembered_device', detail: { device: event.device } };
    case 'factor_enrolled':
      return { name: 'factor_enrolled', detail: { factor: event.factor } };
    case 'factor_removed':
      return { name: 'factor_removed', detail: { factor: event.factor } };
    case 'devices_forgotten':
      return { name: 'devices_forgotten' };
    case 'factor_setting':
      // A factor's own settings action: `settings.recovery` with the action, as before the kit.
      return { name: event.factor, detail: { action: event.action.slice(0, 32) } };
    case 'action_completed':
      return { name: 'action_completed', detail: { action: event.action } };
    // The binding's notice is audited as notice.sent/notice.failed; the password service audits the change.
    case 'authenticator_bound':
    case 'password_changed':
      return undefined;
  }
}

export const auditHook: AfterHook = {
  name: 'audit',
  async run({ services, kind, account, clientId, ip }, events) {
    for (const event of events) {
      const found = entry(event);
      if (found) await services.audit.record({ type: `${kind}.${found.name}`, accountId: account?.id ?? null, clientId, ip, detail: found.detail });
    }
  },
};
