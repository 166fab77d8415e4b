// A local stand-in for the Twilio REST API (2010-04-01 Messages and Calls), shaped closely enough
// that the real twilio client can talk to it through TWILIO_API_URL: Basic auth, form-encoded
// bodies, 201 resource JSON, and Twilio's error JSON ({ code, message, more_info, status }).
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSms {
  sid: string;
  to: string;
  from: string;
  body: string;
}

export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  twiml: string;
}

export interface FakeTwilio {
  /** `http://127.0.0.1:PORT`, for TWILIO_API_URL. */
  url: string;
  accountSid: string;
  authToken: string;
  messages: FakeSms[];
  calls: FakeCall[];
  /**
   * Oldest SMS to `to` not returned before that is not a security notice (what a patient types a
   * code from); resolves at once if it already arrived. Notices arrive beside the flow, at a moment
   * of their own: `waitForNotice` takes those.
   */
  waitForSms(to: string, opts?: { timeoutMs?: number }): Promise<FakeSms>;
  /** Oldest security notice (accounts/security-notices.ts) to `to` not returned before. */
  waitForNotice(to: string, opts?: { timeoutMs?: number }): Promise<FakeSms>;
  /** Oldest call to `to` not returned before; resolves at once if it already arrived. */
  waitForCall(to: string, opts?: { timeoutMs?: number }): Promise<FakeCall>;
  /** The next authenticated API request fails with this HTTP status and Twilio error code. */
  failNext(status: number, code: number, message: string): void;
  close(): Promise<void>;
}

/** A security notice SMS: each ends by asking whether it was the patient (locales/<lang>/notices.json, sms). */
export function isSecurityNotice(sms: FakeSms): boolean {
  return /Was u dit niet\?|Was this not you\?/.test(sms.body);
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');
const rfc2822 = (d: Date) => d.toUTCString().replace('GMT', '+0000');
const MAX_BODY_BYTES = 1_000_000;

interface TwilioError {
  status: number;
  code: number;
  message: string;
}

export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = sid('AC');
  const authToken = randomBytes(16).toString('hex');
  const messages: FakeSms[] = [];
  const calls: FakeCall[] = [];
  const failures: TwilioError[] = [];
  const waiters = new Set<() => void>();
  const claimed = new Set<object>();

  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  const base = `/2010-04-01/Accounts/${accountSid}`;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendError(res, { status: 500, code: 20500, message: 'Internal Server Error' }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (req.headers.authorization !== expectedAuth) {
      return sendError(res, { status: 401, code: 20003, message: 'Authenticate' });
    }
    const failure = failures.shift();
    if (failure) return sendError(res, failure);

    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const form = new URLSearchParams(body);
    const now = rfc2822(new Date());

    if (req.method === 'POST' && path === `${base}/Messages.json`) {
      const to = form.get('To');
      const from = form.get('From') ?? form.get('MessagingServiceSid');
      const text = form.get('Body');
      if (!to) return sendError(res, { status: 400, code: 21604, message: "A 'To' phone number is required." });
      if (!from) return sendError(res, { status: 400, code: 21603, message: "A 'From' phone number is required." });
      if (!text) return sendError(res, { status: 400, code: 21602, message: 'Message body is required.' });
      const message: FakeSms = { sid: sid('SM'), to, from, body: text };
      messages.push(message);
      wakeWaiters();
      return sendJson(res, 201, {
        account_sid: accountSid,
        api_version: '2010-04-01',
        body: text,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from,
        messaging_service_sid: form.get('MessagingServiceSid'),
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid: message.sid,
        status: 'queued',
        subresource_uris: { media: `${base}/Messages/${message.sid}/Media.json` },
        to,
        uri: `${base}/Messages/${message.sid}.json`,
      });
    }

    if (req.method === 'POST' && path === `${base}/Calls.json`) {
      const to = form.get('To');
      const from = form.get('From');
      const twiml = form.get('Twiml');
      if (!to) return sendError(res, { status: 400, code: 21201, message: "No 'To' number is specified" });
      if (!from) return sendError(res, { status: 400, code: 21213, message: "No 'From' number is specified" });
      if (!twiml && !form.get('Url')) return sendError(res, { status: 400, code: 21205, message: 'Url parameter is required.' });
      const call: FakeCall = { sid: sid('CA'), to, from, twiml: twiml ?? '' };
      calls.push(call);
      wakeWaiters();
      return sendJson(res, 201, {
        account_sid: accountSid,
        answered_by: null,
        api_version: '2010-04-01',
        caller_name: null,
        date_created: now,
        date_updated: now,
        direction: 'outbound-api',
        duration: null,
        end_time: null,
        from,
        from_formatted: from,
        parent_call_sid: null,
        phone_number_sid: null,
        price: null,
        price_unit: 'USD',
        sid: call.sid,
        start_time: null,
        status: 'queued',
        subresource_uris: {},
        to,
        to_formatted: to,
        uri: `${base}/Calls/${call.sid}.json`,
      });
    }

    return sendError(res, { status: 404, code: 20404, message: `The requested resource ${path} was not found` });
  }

  function wakeWaiters(): void {
    for (const wake of waiters) wake();
  }

  function waitFor<T extends { to: string }>(list: T[], kind: string, to: string, timeoutMs = 5_000, wanted: (item: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve, reject) => {
      const wake = () => {
        const item = list.find((x) => x.to === to && !claimed.has(x) && wanted(x));
        if (!item) return;
        claimed.add(item);
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(item);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`no ${kind} to ${to} within ${timeoutMs} ms (${list.length} ${kind} in total)`));
      }, timeoutMs);
      waiters.add(wake);
      wake();
    });
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    calls,
    waitForSms: (to, opts) => waitFor(messages, 'SMS', to, opts?.timeoutMs, (sms) => !isSecurityNotice(sms)),
    waitForNotice: (to, opts) => waitFor(messages, 'notice SMS', to, opts?.timeoutMs, isSecurityNotice),
    waitForCall: (to, opts) => waitFor(calls, 'call', to, opts?.timeoutMs),
    failNext(status, code, message) {
      failures.push({ status, code, message });
    },
    close() {
      const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      // The client keeps connections alive; without this, close() waits for them to time out.
      server.closeAllConnections();
      return closed;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

function sendError(res: ServerResponse, { status, code, message }: TwilioError): void {
  sendJson(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
}
