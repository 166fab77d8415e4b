// "Bevestig uw e-mailadres" (Mijn Therapie Dossier's first step): a code to the address on the
// account proves the patient reads it; the address is then marked verified. Due when stored on the
// account (an operator or an import asks for it); done in this flow once the code was entered.
import type { RequiredAction } from '../action.ts';
import { storedOnAccount } from '../action.ts';
import { addressCheckPage } from '../address-check.ts';
import { renderMail } from '../../delivery/mail-render.ts';
import { formatSentTime } from '../../i18n/sent-time.ts';

const ID = 'verify-email';

export const verifyEmailAction: RequiredAction = {
  id: ID,
  scope: 'login',
  ...storedOnAccount(ID),
  page: addressCheckPage({
    id: ID,
    address: 'email',
    async send({ services, policy, account, to, code, sentAt, lang, t, minutes }) {
      const texts = {
        subject: t('verify-email.mail.subject', { portal: policy.name }),
        greeting: account.givenName ? t('verify-email.mail.greeting_named', { name: account.givenName }) : t('verify-email.mail.greeting'),
        intro: t('verify-email.mail.intro', { portal: policy.name }),
        validity: t('verify-email.mail.validity', { minutes }),
        sentAt: t('verify-email.mail.sent_at', { time: formatSentTime(sentAt, lang) }),
        notYou: t('verify-email.mail.not_you'),
        footer: t('verify-email.mail.footer'),
      };
      const text = [texts.greeting, '', texts.intro, '', code, '', texts.validity, texts.sentAt, '', texts.notYou, '', texts.footer, ''].join('\n');
      await services.delivery.sendMail({ to, subject: texts.subject, text, html: renderMail('mail/code', { lang, code, ...texts }) });
    },
    async verified(services, account) {
      await services.accounts.update(account, { emailVerified: true });
    },
  }),
};
