// The mail with a temporary password: in the account's language, from the portal's own sender
// when it has one (client metadata `mail_from`, e.g. Mijn Therapie Dossier's no-reply address),
// naming the portal and how long the password works. The password is in the mail and nowhere
// else: never in a log line, the audit trail or the store (only its hash).
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator } from '../i18n/i18n.ts';
import { renderMail } from '../delivery/mail-render.ts';

/** The portal a temporary password is for, as the caller (CLI, recovery flow) resolved it. */
export interface PortalSender {
  clientId: string;
  name: string;
  /** Where the patient signs in (the portal's own site). */
  loginUrl?: string;
  /** The portal's own From header; MAIL_FROM when absent. */
  mailFrom?: string;
}

const TIME_ZONE = 'Europe/Amsterdam';

export async function deliverTemporaryPassword(
  services: Services,
  account: AccountRecord,
  mail: { password: string; expiresAt: number; portal: PortalSender | undefined },
): Promise<void> {
  const lang = isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE;
  const t = translator(lang);
  const portal = mail.portal?.name ?? t('temporary_password.mail.no_portal');
  const loginUrl = mail.portal?.loginUrl ?? `${services.config.issuer}/account`;
  const until = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE }).format(mail.expiresAt);
  const subject = t('temporary_password.mail.subject', { portal });
  const before = [
    t('temporary_password.mail.greeting', { name: account.givenName ?? account.username }),
    t('temporary_password.mail.intro', { portal }),
  ];
  const after = [
    t('temporary_password.mail.valid_until', { until }),
    t('temporary_password.mail.then_change'),
    t('temporary_password.mail.not_asked'),
  ];
  const credentials = [
    `${t('temporary_password.mail.username')}: ${account.username}`,
    `${t('temporary_password.mail.password')}: ${mail.password}`,
  ];
  const signature = mail.portal ? t('temporary_password.mail.signature', { portal }) : t('notices.signature');
  const text = [...before, credentials.join('\n'), ...after, `${t('temporary_password.mail.login_link', { portal })}: ${loginUrl}`, signature].join('\n\n');
  const html = renderMail('mail/temporary-password', {
    lang, t, subject, before, after, portal, loginUrl, signature,
    username: account.username, password: mail.password,
  });
  await services.delivery.sendMail({ to: account.email, subject, text, html, ...(mail.portal?.mailFrom ? { from: mail.portal.mailFrom } : {}) });
}
