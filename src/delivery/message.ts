// The delivery layer only transports text that callers have already localised; nothing in here
// knows what a message says, so a code or a name never has to pass through code that logs.

export type Channel = 'mail' | 'sms' | 'voice';

export interface MailMessage {
  /** One bare address (`jan@example.nl`); lists and display names are refused. */
  to: string;
  subject: string;
  text: string;
  html?: string;
  /**
   * Sender for this message only (a portal's own, e.g. `Mijn Therapie Dossier
   * <no-reply@mijntherapiedossier.nl>`); MAIL_FROM when absent. Checked by `isMailSender`.
   */
  from?: string;
}

export interface SmsMessage {
  /** E.164, e.g. `+31612345678`. */
  to: string;
  body: string;
  /** Sender for this message only: a number or an alphanumeric sender id such as `ZINNZORG`. */
  from?: string;
}

export interface VoiceMessage {
  /** E.164, e.g. `+31612345678`. */
  to: string;
  /** Complete TwiML document, see `buildCodeCallTwiml`. */
  twiml: string;
  /** Caller id for this call only; must be a number, Twilio refuses alphanumeric caller ids. */
  from?: string;
}

export interface Delivery {
  sendMail(m: MailMessage): Promise<void>;
  sendSms(m: SmsMessage): Promise<void>;
  placeCall(m: VoiceMessage): Promise<void>;
  /** False when `sendSms` would throw `DeliveryUnavailableError`, so the UI can hide the option. */
  readonly smsAvailable: boolean;
}

// A recipient that reaches nodemailer as "a@x.nl, b@y.nl" would get the code sent to both. Callers
// validate input, but a code mail must never fan out, so anything but one bare address is refused.
const SINGLE_ADDRESS = /^[^\s@,;:<>()"[\]\\]+@[^\s@,;:<>()"[\]\\]+\.[^\s@,;:<>()"[\]\\]+$/;

export function assertSingleMailAddress(to: string): void {
  if (!SINGLE_ADDRESS.test(to)) throw new TypeError('MailMessage.to must be a single bare e-mail address');
}

const DISPLAY_NAME = /^[^\p{C}<>",;:@\\]{1,64}$/u;

/**
 * A sender as an operator may configure it: one bare address, or a display name and one address
 * in angle brackets. No quotes, commas or line breaks, so it can never become two senders or a
 * header of its own.
 */
export function isMailSender(value: string): boolean {
  if (value.length > 254) return false;
  const named = /^(.*?)\s*<([^<>]+)>$/u.exec(value);
  if (!named) return SINGLE_ADDRESS.test(value);
  const [, name = '', address = ''] = named;
  return (name === '' || DISPLAY_NAME.test(name.trim())) && SINGLE_ADDRESS.test(address);
}
