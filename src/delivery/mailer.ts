// SMTP through a nodemailer pool: a login code should not wait for a fresh TCP+TLS handshake,
// and the timeouts are far below nodemailer's defaults (2 and 10 minutes) because a user is
// waiting on the other end; a stuck relay must fail the request, not hang it.
import nodemailer from 'nodemailer';
import type { NodemailerError } from 'nodemailer';
import { DeliveryFailedError } from './errors.ts';
import { assertSingleMailAddress, type MailMessage } from './message.ts';

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` or `smtps://host:465`; query parameters become transport options. */
  smtpUrl: string;
  /** Default From header, e.g. `Poortwachter <no-reply@example.nl>`. */
  from: string;
  /** Upper bound for one send including queueing in the pool; default 60 s. */
  sendTimeoutMs?: number;
}

export interface Mailer {
  send(message: MailMessage): Promise<{ messageId: string }>;
  /** Closes pooled connections; messages still in flight finish first. */
  close(): Promise<void>;
}

export function createSmtpMailer({ smtpUrl, from, sendTimeoutMs = 60_000 }: SmtpMailerOptions): Mailer {
  const transport = nodemailer.createTransport(
    {
      url: smtpUrl,
      pool: true,
      maxConnections: 3,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      dnsTimeout: 10_000,
      // Only inline text is ever sent; nothing may make the mailer read files or fetch URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    },
    { from },
  );

  return {
    async send(message) {
      assertSingleMailAddress(message.to);
      try {
        const info = await transport.sendMail({
          to: message.to,
          subject: message.subject,
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
          ...(message.from === undefined ? {} : { from: message.from }),
          // Socket timeouts do not notice a server that trickles replies; this bounds the whole send.
          signal: AbortSignal.timeout(sendTimeoutMs),
        });
        return { messageId: info.messageId };
      } catch (err) {
        throw smtpFailure(err);
      }
    },
    close() {
      transport.close();
      return Promise.resolve();
    },
  };
}

const PERMANENT_CODES = new Set(['EENVELOPE', 'EAUTH', 'ENOAUTH', 'ECONFIG']);

function smtpFailure(err: unknown): DeliveryFailedError {
  const e = (err ?? {}) as NodemailerError;
  // For a connection failure nodemailer's code is a generic ESOCKET; the socket's own code
  // (ECONNREFUSED, ENOTFOUND) is what an operator needs.
  const providerCode = e.originalCode ?? (typeof e.code === 'string' ? e.code : undefined);
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  return new DeliveryFailedError('mail', {
    provider: 'smtp',
    providerCode,
    status,
    // nodemailer sets `permanent` only when the server replied; without a reply, only a refused
    // envelope or bad credentials will certainly fail again, a dropped connection may not.
    permanent: e.permanent ?? (typeof e.code === 'string' && PERMANENT_CODES.has(e.code)),
  });
}
