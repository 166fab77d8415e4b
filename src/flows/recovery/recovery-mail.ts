// The e-mail with the recovery link, in the account's language, naming the portal. Rendered and
// handed to SMTP after the answer has gone out (request-context.ts `afterResponse`): doing either
// before would make a real account's answer slower than an unknown name's (review of issue 9,
// finding 3: 31-37 ms against 16-18 ms). A delivery error is logged, never shown: the page says the
// same either way.
import type { StepContext } from '../../steps/step.ts';
import type { AccountRecord } from '../../store/port.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator } from '../../i18n/i18n.ts';
import { renderMail } from '../../delivery/mail-render.ts';
import { afterResponse } from '../../request-context.ts';

export function sendRecoveryLink(ctx: StepContext, account: AccountRecord, token: string): void {
  afterResponse(() => mailRecoveryLink(ctx, account, token));
}

async function mailRecoveryLink(ctx: StepContext, account: AccountRecord, token: string): Promise<void> {
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
  try {
    const html = renderMail('mail/recovery-link', { lang, subject, paragraphs, url, action: t('forgot.mail.action') });
    await services.delivery.sendMail({ to: account.email, subject, text: [paragraphs[0], paragraphs[1], url, ...paragraphs.slice(2)].join('\n\n'), html });
  } catch (error) {
    services.logger.warn({ err: error instanceof Error ? error.message : String(error), accountId: account.id }, 'recovery link not sent');
  }
}
