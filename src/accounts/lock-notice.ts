// The mail a patient gets when a lock starts: one per lock, never per failed attempt, in the
// account's language, saying until when (or that an unlock is needed) and what to do. Kept in one
// file so it can join the other security notices (accounts/security-notices.ts) as one more kind.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator } from '../i18n/i18n.ts';
import { renderMail } from '../delivery/mail-render.ts';
import type { LockEvent } from './lockout.ts';
import { mailSignature } from '../brand/mail-signature.ts';

const TIME_ZONE = 'Europe/Amsterdam';

export async function sendLockNotice(services: Services, account: AccountRecord, lock: LockEvent): Promise<void> {
  const lang = isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE;
  const t = translator(lang);
  const kind = lock.kind === 'hard' ? 'hard' : 'temporary';
  const until = lock.kind === 'temporary'
    ? new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE }).format(lock.until)
    : '';
  const subject = t(`lockout.mail.${kind}.subject`);
  const paragraphs = [
    t('lockout.mail.greeting', { name: account.givenName ?? account.username }),
    t(`lockout.mail.${kind}.what`, { username: account.username, until }),
    t(`lockout.mail.${kind}.you`, { until }),
    t(`lockout.mail.${kind}.not_you`),
    mailSignature(t, services.config.brand.name),
  ];
  const html = renderMail('mail/lock-notice', { lang, subject, paragraphs });
  await services.delivery.sendMail({ to: account.email, subject, text: paragraphs.join('\n\n'), html });
}
