// Provider errors carry recipients, request configs with Authorization headers and server replies
// that quote addresses. These classes keep only what an operator needs, so they are safe to log.
import type { Channel } from './message.ts';

/** No transport is configured for the channel (and no dev outbox stands in for it). */
export class DeliveryUnavailableError extends Error {
  constructor(readonly channel: Channel, reason = 'no transport configured') {
    super(`${channel} delivery unavailable: ${reason}`);
    this.name = 'DeliveryUnavailableError';
  }
}

export interface DeliveryFailure {
  provider: 'smtp' | 'twilio';
  /** Provider error code: a Twilio error number (21211) or a Node/nodemailer code (ECONNECTION). */
  providerCode?: string | number;
  /** HTTP status from Twilio or the SMTP reply code. */
  status?: number;
  /** True when sending the same message again will fail again (bad number, mailbox refused). */
  permanent: boolean;
}

/** The provider refused the message or could not be reached. */
export class DeliveryFailedError extends Error {
  readonly provider: DeliveryFailure['provider'];
  readonly providerCode?: string | number;
  readonly status?: number;
  readonly permanent: boolean;

  constructor(readonly channel: Channel, failure: DeliveryFailure) {
    const detail = [failure.providerCode, failure.status].filter((v) => v !== undefined).join(' ');
    super(`${channel} delivery via ${failure.provider} failed${detail ? ` (${detail})` : ''}`);
    this.name = 'DeliveryFailedError';
    this.provider = failure.provider;
    this.providerCode = failure.providerCode;
    this.status = failure.status;
    this.permanent = failure.permanent;
  }
}
