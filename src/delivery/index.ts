// Picks a transport per channel: the real provider when configured, otherwise the dev outbox
// (development only), otherwise a sender that refuses with DeliveryUnavailableError so a missing
// configuration shows up as a clear error instead of a silently lost code. Log lines name the
// channel, a masked recipient and the provider's message id, never content.
import type { Config } from '../config.ts';
import { maskPhone, type Logger } from '../log.ts';
import type { DevOutbox } from './dev-outbox.ts';
import { DeliveryFailedError, DeliveryUnavailableError } from './errors.ts';
import { createSmtpMailer } from './mailer.ts';
import { assertSingleMailAddress, isMailSender, type Channel, type Delivery, type MailMessage, type SmsMessage, type VoiceMessage } from './message.ts';
import { isE164 } from './phone.ts';
import { createTwilioSender } from './twilio-sender.ts';
import { spokenText } from './voice-twiml.ts';

export type { Channel, Delivery, MailMessage, SmsMessage, VoiceMessage } from './message.ts';
export { DeliveryFailedError, DeliveryUnavailableError } from './errors.ts';
export { DevOutbox, type OutboxEntry } from './dev-outbox.ts';
export { normalisePhone, isE164, type NormalisedPhone } from './phone.ts';
export { isMailSender } from './message.ts';
export { buildCodeCallTwiml, spokenText, type CodeCallText, type CallLanguage } from './voice-twiml.ts';

export type Transport = 'smtp' | 'twilio' | 'outbox' | 'none';

export interface DeliveryService extends Delivery {
  /** False when `placeCall` without a `from` would throw DeliveryUnavailableError. */
  readonly voiceAvailable: boolean;
  readonly mailAvailable: boolean;
  /** Which transport each channel uses, for the start-up log and health pages. */
  readonly transports: Readonly<Record<Channel, Transport>>;
  /** Closes the SMTP pool; call on shutdown. */
  close(): Promise<void>;
}

/** `jan.jansen@example.nl` → `j***@example.nl` */
export function maskMail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 1) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

const maskRecipient = (channel: Channel, to: string) =>
  channel === 'mail' ? maskMail(to) : maskPhone(to.replace(/\D/g, ''));

export function createDelivery(config: Config, logger: Logger, outbox?: DevOutbox): DeliveryService {
  const log = logger.child({ component: 'delivery' });
  const devOutbox = config.devOutbox && outbox ? outbox : undefined;

  const { smtpUrl, from: mailFrom } = config.mail;
  const mailer = smtpUrl ? createSmtpMailer({ smtpUrl, from: mailFrom }) : undefined;

  const { accountSid, authToken, from: twilioFrom, apiUrl } = config.twilio;
  const twilioSender =
    accountSid && authToken && twilioFrom
      ? createTwilioSender({ accountSid, authToken, from: twilioFrom, ...(apiUrl ? { apiUrl } : {}) })
      : undefined;

  const transports: Readonly<Record<Channel, Transport>> = Object.freeze({
    mail: mailer ? 'smtp' : devOutbox ? 'outbox' : 'none',
    sms: twilioSender ? 'twilio' : devOutbox ? 'outbox' : 'none',
    voice: twilioSender ? 'twilio' : devOutbox ? 'outbox' : 'none',
  });

  async function send(channel: Channel, to: string, viaProvider: (() => Promise<string>) | undefined, toOutbox: (outbox: DevOutbox) => string): Promise<void> {
    const recipient = maskRecipient(channel, to);
    if (viaProvider) {
      const provider = transports[channel];
      let providerMessageId: string;
      try {
        providerMessageId = await viaProvider();
      } catch (err) {
        if (err instanceof DeliveryFailedError) {
          log.error(
            { channel, recipient, provider, providerCode: err.providerCode, status: err.status, permanent: err.permanent },
            `${channel} delivery failed`,
          );
        }
        throw err;
      }
      log.info({ channel, recipient, provider, providerMessageId }, `${channel} sent`);
      return;
    }
    if (devOutbox) {
      const outboxId = toOutbox(devOutbox);
      log.info({ channel, recipient, provider: 'outbox', outboxId }, `${channel} recorded in dev outbox`);
      return;
    }
    log.warn({ channel, recipient }, `${channel} not sent: no transport configured`);
    throw new DeliveryUnavailableError(channel);
  }

  return {
    smsAvailable: transports.sms !== 'none',
    voiceAvailable: transports.voice === 'outbox' || (transports.voice === 'twilio' && !!twilioSender?.canCallFromDefault),
    mailAvailable: transports.mail !== 'none',
    transports,

    async sendMail(m: MailMessage) {
      assertSingleMailAddress(m.to);
      if (m.from !== undefined && !isMailSender(m.from)) throw new TypeError('MailMessage.from must be one sender');
      return send(
        'mail',
        m.to,
        mailer && (async () => (await mailer.send(m)).messageId),
        (outbox) => outbox.record({ channel: 'mail', to: m.to, subject: m.subject, text: m.text, ...(m.html === undefined ? {} : { html: m.html }), ...(m.from === undefined ? {} : { from: m.from }) }).id,
      );
    },

    async sendSms(m: SmsMessage) {
      assertPhone(m.to, 'SmsMessage.to');
      return send(
        'sms',
        m.to,
        twilioSender && (async () => (await twilioSender.sendSms(m)).sid),
        (outbox) => outbox.record({ channel: 'sms', to: m.to, text: m.body }).id,
      );
    },

    async placeCall(m: VoiceMessage) {
      assertPhone(m.to, 'VoiceMessage.to');
      if (twilioSender && !m.from && !twilioSender.canCallFromDefault) {
        log.warn({ channel: 'voice' }, 'voice not sent: TWILIO_FROM is not a phone number');
        throw new DeliveryUnavailableError('voice', 'TWILIO_FROM is not a phone number, Twilio cannot call from it');
      }
      return send(
        'voice',
        m.to,
        twilioSender && (async () => (await twilioSender.placeCall(m)).sid),
        (outbox) => outbox.record({ channel: 'voice', to: m.to, text: spokenText(m.twiml) }).id,
      );
    },

    close: () => mailer?.close() ?? Promise.resolve(),
  };
}

// Checked here as well as in the senders so that development (outbox) refuses what production would.
function assertPhone(value: string, what: string): void {
  if (!isE164(value)) throw new TypeError(`${what} must be an E.164 phone number`);
}
