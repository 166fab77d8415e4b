// The invitation mail (Mijn Therapie Dossier, step 1: "een e-mail van de praktijk met hierin je
// gebruikersnaam en een link"): from the portal's sender (`mail_from`, else MAIL_FROM under the
// portal's name), in the account's language, naming the portal, the username, the link and until
// when it works, signed by the portal like the recovery mails. The link's token is in the mail and
// nowhere else (the store keeps only its hash; no log line names it).
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import type { PortalPolicy } from '../oidc/client-policy.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator } from '../i18n/i18n.ts';
import { renderMail } from '../delivery/mail-render.ts';
import { mailSignature } from '../brand/mail-signature.ts';
import { mailSender } from '../brand/brand.ts';

const TIME_ZONE = 'Europe/Amsterdam';

/** The path of an invitation link; the activation flow's routes answer it (flows/activation/). */
export const activationPath = (token: string) => `/activate/${token}`;

export async function mailInvitation(services: Services, account: AccountRecord, invitation: { token: string; expiresAt: number; portal: PortalPolicy | undefined }): Promise<void> {
  const lang = isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE;
  const t = translator(lang);
  const { portal } = invitation;
  const portalName = portal?.name ?? services.config.brand.name;
  const url = `${services.config.issuer}${activationPath(invitation.token)}`;
  const until = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE }).format(invitation.expiresAt);
  const subject = t('activation.mail.subject', { portal: portalName });
  const paragraphs = [
    t('activation.mail.greeting', { name: account.givenName ?? account.username }),
    t('activation.mail.intro', { portal: portalName }),
    `${t('activation.mail.username')}: ${account.username}`,
    t('activation.mail.valid_until', { until }),
    t('activation.mail.expired_hint'),
    t('activation.mail.not_expected'),
    mailSignature(t, services.config.brand.name, portal?.name),
  ];
  const html = renderMail('mail/invitation', { lang, subject, paragraphs, url, action: t('activation.mail.action') });
  const text = [paragraphs[0], paragraphs[1], paragraphs[2], url, ...paragraphs.slice(3)].join('\n\n');
  const from = portal ? mailSender(portal.brand, services.config.mail.from) : undefined;
  await services.delivery.sendMail({ to: account.email, subject, text, html, ...(from ? { from } : {}) });
}
