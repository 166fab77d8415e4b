// The code e-mail, as plain text and HTML with the same sentences, in the account's language. The
// code is never in the subject: subjects show on lock screens and in notification previews.
import type { MailMessage } from '../../delivery/index.ts';
import { renderMail } from '../../delivery/mail-render.ts';
import type { CodeMessage } from '../delivered-code.ts';
import { formatSentTime } from '../../i18n/sent-time.ts';

export function codeMail({ account, policy, to, code, mode, lang, t, sentAt, minutes }: CodeMessage): MailMessage {
  const portal = policy.brand.name;
  // A portal's own word for the code ("eenmalig wachtwoord") where it has one.
  const named = mode === 'challenge' && policy.brand.codeName !== 'code';
  const word = t(`brand.code_name.${policy.brand.codeName}.noun`);
  const texts = {
    subject: named ? t('email.mail.challenge.subject_named', { portal, word }) : t(`email.mail.${mode}.subject`, { portal }),
    greeting: account.givenName ? t('email.mail.greeting_named', { name: account.givenName }) : t('email.mail.greeting'),
    intro: named ? t('email.mail.challenge.intro_named', { portal, word }) : t(`email.mail.${mode}.intro`, { portal }),
    validity: t('email.mail.validity', { minutes }),
    sentAt: t('email.mail.sent_at', { time: formatSentTime(sentAt, lang) }),
    notYou: t(`email.mail.${mode}.not_you`),
    footer: t('email.mail.footer'),
    signature: t('brand.signature', { portal }),
  };
  const text = [texts.greeting, '', texts.intro, '', code, '', texts.validity, texts.sentAt, '', texts.notYou, '', texts.footer, '', texts.signature, ''].join('\n');
  const html = renderMail('mail/code', { lang, code, ...texts });
  return { to, subject: texts.subject, text, html };
}
