// "Recente activiteit": the account's audit trail of the last days (policy.accountPage.activityDays)
// in plain words — sign-ins with their methods and portal, failures, locks, and every change of
// sign-in methods, e-mail, phone, password, devices and portals. Events a patient would not
// recognise (a notice sent, a code delivered) are left out; they are in the operator's export.
import type { AuditEvent } from '../../store/port.ts';
import type { Translate } from '../../i18n/i18n.ts';

export interface ActivityLine {
  at: number;
  text: string;
  /** A failure or lock: shown as needing attention. */
  warning: boolean;
}

/** amr values as the patient knows the method; unknown values are left out. */
const AMR_KEYS: Record<string, string> = { pwd: 'pwd', sms: 'sms', tel: 'tel', otp: 'otp', email: 'email', hwk: 'passkey', swk: 'passkey' };

function methods(detail: Record<string, unknown>, t: Translate): string {
  const amr = Array.isArray(detail.amr) ? detail.amr.filter((v): v is string => typeof v === 'string') : [];
  const names = [...new Set(amr.map((v) => AMR_KEYS[v]).filter((k): k is string => k !== undefined))].map((k) => t(`settings.activity.amr.${k}`));
  return names.join(', ');
}

function text(event: AuditEvent, portal: string, t: Translate): { key: string; params?: Record<string, string>; warning?: boolean } | undefined {
  const { type, detail } = event;
  const factor = typeof detail.factor === 'string' ? t(`settings.method.${detail.factor}`) : '';
  if (type === 'login.completed') return { key: 'login', params: { portal, methods: methods(detail, t) } };
  if (type === 'login.password.failed') return { key: 'password_failed', params: { portal }, warning: true };
  if (type.startsWith('login.') && type.endsWith('.failed')) return { key: 'code_failed', params: { portal }, warning: true };
  if (type === 'login.locked' || type === 'login.hard_locked') return { key: 'locked', warning: true };
  if (type === 'login.code_limit_reached') return { key: 'code_limit', warning: true };
  if (type === 'login.recovery.used') return { key: 'recovery_used', params: { portal } };
  if (type.endsWith('.factor_enrolled')) return { key: 'method_added', params: { method: factor } };
  if (type === 'settings.factor_removed') return { key: 'method_removed', params: { method: factor } };
  if (type === 'settings.recovery') return { key: 'recovery_codes' };
  if (type === 'settings.devices_forgotten') return { key: 'devices_forgotten' };
  if (type === 'settings.device_forgotten') return { key: 'device_forgotten' };
  if (type === 'settings.email_change_requested') return { key: 'email_change_requested' };
  if (type === 'settings.email_changed') return { key: 'email_changed' };
  if (type === 'settings.phone_changed') return { key: 'phone_changed' };
  if (type === 'settings.default_method') return { key: 'default_method', params: { method: factor } };
  if (type === 'settings.remember_duration') return { key: 'remember_duration' };
  if (type === 'settings.portal_signed_out') return { key: 'portal_signed_out', params: { portal } };
  if (type === 'settings.portal_revoked') return { key: 'portal_revoked', params: { portal } };
  if (type === 'settings.signed_out_everywhere') return { key: 'signed_out_everywhere' };
  if (type === 'password.changed') return { key: 'password_changed' };
  if (type === 'admin.user.mfa_reset') return { key: 'mfa_reset' };
  if (type === 'admin.user.unlocked') return { key: 'unlocked' };
  return undefined;
}

/**
 * The lines for the page, newest first. `portalName` names a client id (the portal's registered
 * name); events on the account page itself carry no client.
 */
export function activityLines(events: readonly AuditEvent[], since: number, portalName: (clientId: string | null) => string, t: Translate): ActivityLine[] {
  const lines: ActivityLine[] = [];
  for (const event of events) {
    if (event.at < since) continue;
    const found = text(event, portalName(event.clientId), t);
    if (found) lines.push({ at: event.at, text: t(`settings.activity.${found.key}`, found.params), warning: found.warning === true });
  }
  return lines;
}
