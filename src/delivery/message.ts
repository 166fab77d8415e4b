// The delivery layer only transports text that callers have already localised; nothing in here
// knows what a message says, so a code or a name never has to pass through code that logs.

export type Channel = 'mail' | 'sms' | 'voice';

export interface MailMessage {
  /** One bare address (`jan@example.nl`); lists and display names are refused. */
  to: string;
  subject: string;
  text: string;
  html?: string;
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
