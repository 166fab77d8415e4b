// The e-mail with the recovery link, in the account's language, naming the portal. Sent beside the
// answer and not awaited: waiting for SMTP would make a real account slower than an unknown name.
import type { StepContext } from '../../steps/step.ts';
import type { AccountRecord } from '../../store/port.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator } from '../../i18n/i18n.ts';
import { renderMail } from '../../delivery/mail-render.ts';

export function sendRecoveryLink(ctx: StepContext, account: AccountRecord, token: string): void {
  const { services } = ctx;
  const lang = isLanguage(account.locale) ? account.locale : ctx.lang ?? DEFAULT_LANGUAGE;
  const t = translator(lang);
  const url = `${services.config.issuer}/recovery/${ctx.flowId}/link/${token}`;
  const minutes = Math.round(services.config.policy.recovery.linkTtlSeconds / 60);
  const portal = ctx.policy.name;
  const subject = t('forgot.mail.subject', { portal });
  const paragraphs = [
    t('forgot.mail.greeting', { name: account.givenName ?? account.username }),
    t('forgot.mail.what', { portal, username: account.username }),
    t('forgot.mail.validity', { minutes }),
    t('forgot.mail.not_you'),
  ];
  const html = renderMail('mail/recovery-link', { lang, subject, paragraphs, url, action: t('forgot.mail.action') });
  services.delivery
    .sendMail({ to: account.email, subject, text: [paragraphs[0], paragraphs[1], url, ...paragraphs.slice(2)].join('\n\n'), html })
    .catch((error: Error) => services.logger.warn({ err: error.message, accountId: account.id }, 'recovery link not sent'));
}
