// SMS and voice calls through the official twilio client. The client always talks to
// https://api.twilio.com (or a region/edge host); TWILIO_API_URL swaps that origin for another
// one, for a regional proxy or a local fake API in tests, by handing the client an HTTP client
// that rewrites each request URL. Everything else (auth, form encoding, error parsing) stays
// the library's own, so tests exercise the code path production uses.
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponse from 'twilio/lib/http/response.js';
import { DeliveryFailedError } from './errors.ts';
import type { Channel, SmsMessage, VoiceMessage } from './message.ts';
import { isE164 } from './phone.ts';

/**
 * Replaces the origin of a Twilio request URL with `baseUrl`, keeping path and query. A path in
 * `baseUrl` becomes a prefix, for an API behind a reverse proxy at `https://proxy/twilio`.
 */
export function rebaseTwilioUrl(uri: string, baseUrl: string): string {
  const original = new URL(uri);
  const base = new URL(baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  return `${base.origin}${prefix}${original.pathname}${original.search}`;
}

export class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    opts?: RequestClientType.RequestClientOptions,
  ) {
    super(opts);
    rebaseTwilioUrl('https://api.twilio.com/', baseUrl); // fail at start-up on a malformed URL
  }

  override request<TData>(opts: RequestClientType.RequestOptions<TData>): Promise<TwilioResponse.default<TData>> {
    return super.request({ ...opts, uri: rebaseTwilioUrl(opts.uri, this.baseUrl) });
  }
}

export interface TwilioSenderOptions {
  accountSid: string;
  authToken: string;
  /** Default sender: a Twilio number in E.164 or an alphanumeric sender id (SMS only). */
  from: string;
  /** Base URL replacing https://api.twilio.com, e.g. `http://127.0.0.1:4010`. */
  apiUrl?: string;
  /** Per request; default 10 s, as a user is waiting for the code. */
  timeoutMs?: number;
}

export interface TwilioSender {
  sendSms(message: SmsMessage): Promise<{ sid: string }>;
  placeCall(message: VoiceMessage): Promise<{ sid: string }>;
  /** Twilio only places calls from a number; an alphanumeric default sender cannot call. */
  readonly canCallFromDefault: boolean;
}

export function createTwilioSender({ accountSid, authToken, from, apiUrl, timeoutMs = 10_000 }: TwilioSenderOptions): TwilioSender {
  const httpOptions: RequestClientType.RequestClientOptions = { timeout: timeoutMs, keepAlive: true };
  const client = twilio(accountSid, authToken, {
    timeout: timeoutMs,
    keepAlive: true,
    // The library prints requests to stdout at debug level (TWILIO_LOG_LEVEL); our logger is the
    // only place log lines may come from.
    logLevel: 'info',
    ...(apiUrl ? { httpClient: new BaseUrlRequestClient(apiUrl, httpOptions) } : {}),
  });

  return {
    canCallFromDefault: isE164(from),

    async sendSms(message) {
      assertE164(message.to, 'SmsMessage.to');
      try {
        const created = await client.messages.create({ to: message.to, from: message.from ?? from, body: message.body });
        return { sid: created.sid };
      } catch (err) {
        throw twilioFailure('sms', err);
      }
    },

    async placeCall(message) {
      assertE164(message.to, 'VoiceMessage.to');
      const callerId = message.from ?? from;
      assertE164(callerId, 'the caller id (VoiceMessage.from or TWILIO_FROM)');
      try {
        const created = await client.calls.create({ to: message.to, from: callerId, twiml: message.twiml });
        return { sid: created.sid };
      } catch (err) {
        throw twilioFailure('voice', err);
      }
    },
  };
}

function assertE164(value: string, what: string): void {
  if (!isE164(value)) throw new TypeError(`${what} must be an E.164 phone number`);
}

// A RestException message quotes the phone number ("The 'To' number +316... is not valid") and
// an axios error holds the request config with the Authorization header; neither is kept.
function twilioFailure(channel: Channel, err: unknown): DeliveryFailedError {
  if (err instanceof twilio.RestException) {
    const status = err.status;
    return new DeliveryFailedError(channel, {
      provider: 'twilio',
      providerCode: err.code,
      status,
      // 4xx: the request itself is wrong (bad number, unverified sender); 429 is only a rate limit.
      permanent: status >= 400 && status < 500 && status !== 429,
    });
  }
  const code = (err as { code?: unknown } | null)?.code;
  return new DeliveryFailedError(channel, {
    provider: 'twilio',
    providerCode: typeof code === 'string' ? code : undefined,
    permanent: false,
  });
}
