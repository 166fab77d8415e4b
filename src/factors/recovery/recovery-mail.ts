// The notice after a recovery code was used: in the account's language, plain text and HTML.
// It says how many codes are left and advises new ones; it never contains a code.
import type { Services } from '../../services.ts';
import type { AccountRecord } from '../../store/port.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator } from '../../i18n/i18n.ts';
import { renderMail } from '../../delivery/mail-render.ts';
import { codesLeftText } from './recovery-text.ts';
import { mailSignature } from '../../brand/mail-signature.ts';

const TIME_ZONE = 'Europe/Amsterdam';

export async function sendRecoveryCodeUsedMail(services: Services, account: AccountRecord, left: number): Promise<void> {
  const lang = isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE;
  const t = translator(lang);
  const when = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE }).format(services.clock.now());
  const settingsUrl = `${services.config.issuer}/account`;
  const name = account.givenName ?? account.username;
  const paragraphs = [
    t('recovery.mail.greeting', { name }),
    t('recovery.mail.used', { when, username: account.username }),
    codesLeftText(t, left),
    t(left === 0 ? 'recovery.mail.advice_none_left' : 'recovery.mail.advice'),
    t('recovery.mail.not_you'),
  ];
  const signature = mailSignature(t, services.config.brand.name);
  const text = [...paragraphs, `${t('recovery.mail.settings_link')}: ${settingsUrl}`, signature].join('\n\n');
  const html = renderMail('mail/recovery-used', { lang, t, subject: t('recovery.mail.subject'), paragraphs, settingsUrl, signature });
  await services.delivery.sendMail({ to: account.email, subject: t('recovery.mail.subject'), text, html });
}
