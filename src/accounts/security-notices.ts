// Security notices: whenever something that can sign in as the patient is added, changed or
// removed — a new, replaced or removed second factor, a new phone number, a new e-mail address —,
// when many wrong codes locked a method (code-guessing-notice.ts) and when a copy of a passkey
// was refused (factors/passkey/passkey-clone-notice.ts), the patient hears of it on
// the channels they already had — the account's e-mail address (when the address itself changes,
// the previous one) and, for what lets someone else sign in, a short SMS to the phone number the
// account had verified before the change (issue 6, finding 1: whoever added an app with the
// mailbox could read and delete a mail, not a text on the patient's phone; a new number is never
// told, it may be the attacker's) —, in the account's language, naming the method and where it happened.
// A changed password is told the same way. A notice never holds a secret, a code or a full phone
// number. Later kinds add an entry to NoticeKind and their texts to locales/*/notices.json.
//
// Sending never holds up or breaks the flow that caused it: a slow or failing mail server is
// logged (masked) and audited, and the patient's login goes on.
import type { Services } from '../services.ts';
import type { AccountRecord } from '../store/port.ts';
import { DEFAULT_LANGUAGE, isLanguage, translator, type Translate } from '../i18n/i18n.ts';
import { renderMail } from '../delivery/mail-render.ts';
import { maskMail } from '../delivery/index.ts';
import { assertSingleMailAddress } from '../delivery/message.ts';
import { maskPhone } from '../log.ts';
import { mailSignature } from '../brand/mail-signature.ts';

export type NoticeKind = 'method_added' | 'method_replaced' | 'method_removed' | 'phone_changed' | 'email_changed' | 'code_guessing' | 'password_changed' | 'second_factors_reset' | 'passkey_clone';

export interface SecurityNotice {
  kind: NoticeKind;
  /** The method, already worded in the account's language (e.g. "Sms-code (Sms naar *****78)"). */
  method?: (t: Translate) => Promise<string>;
  /** The portal the patient was signing in to; undefined on the account page itself. */
  portal?: string;
  /** `email_changed`: the address before the change, which receives the notice. */
  previousEmail?: string;
  /** An operator made the change (the CLI), not the patient on a page. */
  byOperator?: boolean;
  /**
   * The verified phone number (E.164) the account had before the change, which gets the SMS;
   * null: none. Left out: the account's verified number now (the change did not touch it).
   */
  phoneBefore?: string | null;
}

/** What a patient also hears of by SMS: what lets someone else sign in as them (not code guessing: no SMS an attacker can set off). */
const SMS_KINDS: ReadonlySet<NoticeKind> = new Set(['method_added', 'method_replaced', 'method_removed', 'phone_changed', 'email_changed', 'password_changed']);

function noticePhone(services: Services, account: AccountRecord, notice: SecurityNotice): string | null {
  if (!SMS_KINDS.has(notice.kind)) return null;
  if (notice.phoneBefore !== undefined) return notice.phoneBefore;
  return account.phoneVerified ? services.accounts.phoneOf(account) : null;
}

const TIME_ZONE = 'Europe/Amsterdam';

function isSingleAddress(address: string): boolean {
  try {
    assertSingleMailAddress(address);
    return true;
  } catch {
    return false;
  }
}

/** Composes and sends the notice; rejects when it cannot be delivered. */
export async function deliverSecurityNotice(services: Services, account: AccountRecord, notice: SecurityNotice): Promise<void> {
  const to = notice.kind === 'email_changed' ? notice.previousEmail ?? '' : account.email;
  if (!isSingleAddress(to)) throw new TypeError('no address to send the notice to');
  const lang = isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE;
  const t = translator(lang);
  const when = new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE }).format(services.clock.now());
  const subject = t(`notices.subject.${notice.kind}`);
  const settingsUrl = `${services.config.issuer}/account`;
  const paragraphs = [
    t('notices.greeting', { name: account.givenName ?? account.username }),
    t(`notices.intro.${notice.kind}`, {
      username: account.username,
      method: notice.method ? await notice.method(t) : '',
      phone: maskPhone(account.phoneHint),
    }),
    notice.byOperator
      ? t('notices.when_operator', { when })
      : notice.portal ? t('notices.when_portal', { when, portal: notice.portal }) : t('notices.when_account', { when }),
    t('notices.not_you'),
    t('notices.was_you'),
  ];
  const signature = mailSignature(t, services.config.brand.name, notice.portal);
  const text = [...paragraphs, `${t('notices.settings_link')}: ${settingsUrl}`, signature].join('\n\n');
  const html = renderMail('mail/security-notice', { lang, t, subject, paragraphs, settingsUrl, signature });
  await services.delivery.sendMail({ to, subject, text, html });
}

/** The short SMS form of a notice, signed by the portal (or the deployment) so the patient knows who writes. */
export async function deliverSecuritySms(services: Services, account: AccountRecord, notice: SecurityNotice, to: string): Promise<void> {
  const t = translator(isLanguage(account.locale) ? account.locale : DEFAULT_LANGUAGE);
  await services.delivery.sendSms({ to, body: t(`notices.sms.${notice.kind}`, { sender: notice.portal ?? services.config.brand.name }) });
}

/** Delivers beside the flow: the outcome audited with the masked address, a failure logged masked, nothing thrown. */
function beside(services: Services, account: AccountRecord, detail: Record<string, string>, send: () => Promise<void>): void {
  send().then(
    () => services.audit.record({ type: 'notice.sent', accountId: account.id, detail }),
    async (error: unknown) => {
      services.logger.warn({ accountId: account.id, ...detail, error: error instanceof Error ? error.name : 'unknown' }, 'security notice not sent');
      await services.audit.record({ type: 'notice.failed', accountId: account.id, detail });
    },
  ).catch((error: unknown) => {
    services.logger.warn({ accountId: account.id, error: error instanceof Error ? error.name : 'unknown' }, 'security notice not audited');
  });
}

/** Sends the notice beside the flow that caused it: failures are logged masked and audited, never thrown. */
export function sendSecurityNotice(services: Services, account: AccountRecord, notice: SecurityNotice): void {
  const to = notice.kind === 'email_changed' ? notice.previousEmail ?? '' : account.email;
  beside(services, account, { kind: notice.kind, to: maskMail(to) }, () => deliverSecurityNotice(services, account, notice));
  const phone = noticePhone(services, account, notice);
  if (phone) beside(services, account, { kind: notice.kind, channel: 'sms', to: maskPhone(phone) }, async () => {
    // SMS costs money: a patient adding and removing methods again and again gets the mails, and
    // a few texts a day.
    if (await services.limits.hit(`notice-sms:${account.id}`, NOTICE_SMS_PER_DAY) < 0) throw new NoticeCapped();
    await deliverSecuritySms(services, account, notice, phone);
  });
}

/** How many notice texts one account gets in a day; the mails are not capped. */
const NOTICE_SMS_PER_DAY = { max: 5, windowMs: 86_400_000 };

class NoticeCapped extends Error {
  override name = 'NoticeCapped';
}
