// A real SMTP server (smtp-server) on an ephemeral local port that keeps every message it
// receives, so tests drive the application's real nodemailer transport end to end.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope sender (MAIL FROM). */
  envelopeFrom: string;
  /** Envelope recipients (RCPT TO), the addresses the mail was actually delivered to. */
  envelopeTo: string[];
  /** Header values, lower-case names, encoded words decoded. */
  headers: Record<string, string>;
  from: string;
  to: string;
  subject: string;
  text?: string;
  html?: string;
  raw: string;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:PORT` */
  url: string;
  messages: ReceivedMail[];
  /**
   * Resolves with the oldest mail to `to` that no earlier waitForMail call returned, at once if
   * it has already arrived, so consecutive calls yield consecutive mails.
   */
  waitForMail(to: string, opts?: { timeoutMs?: number }): Promise<ReceivedMail>;
  /** The next RCPT TO is refused with this SMTP reply, e.g. 550 'Mailbox unavailable'. */
  rejectNextRecipient(responseCode: number, message: string): void;
  close(): Promise<void>;
}

export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const claimed = new Set<ReceivedMail>();
  const waiters = new Set<() => void>();
  const rejections: { responseCode: number; message: string }[] = [];

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    // The application's pooled connections stay open; do not make close() wait 30 s for them.
    closeTimeout: 100,
    onRcptTo(_address, _session, callback) {
      const rejection = rejections.shift();
      if (!rejection) return callback();
      callback(Object.assign(new Error(rejection.message), { responseCode: rejection.responseCode }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        messages.push(
          parseMail(Buffer.concat(chunks).toString('latin1'), mailFrom ? mailFrom.address : '', rcptTo.map((r) => r.address)),
        );
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;

  function waitForMail(to: string, { timeoutMs = 5_000 }: { timeoutMs?: number } = {}): Promise<ReceivedMail> {
    const wanted = to.toLowerCase();
    const take = () => {
      const mail = messages.find((m) => !claimed.has(m) && m.envelopeTo.some((r) => r.toLowerCase() === wanted));
      if (mail) claimed.add(mail);
      return mail;
    };
    return new Promise((resolve, reject) => {
      const wake = () => {
        const mail = take();
        if (!mail) return;
        clearTimeout(timer);
        waiters.delete(wake);
        resolve(mail);
      };
      const timer = setTimeout(() => {
        waiters.delete(wake);
        reject(new Error(`no mail to ${to} within ${timeoutMs} ms (received ${messages.length} in total)`));
      }, timeoutMs);
      waiters.add(wake);
      wake();
    });
  }

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitForMail,
    rejectNextRecipient(responseCode, message) {
      rejections.push({ responseCode, message });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// --- a small MIME reader: enough for what nodemailer writes (single part or multipart/* with
// 7bit, 8bit, quoted-printable or base64 parts, RFC 2047 encoded headers). Bodies are kept as
// latin1 strings until a part's charset is known, so every byte survives.

interface Part {
  headers: Record<string, string>;
  body: string;
}

function parseMail(raw: string, envelopeFrom: string, envelopeTo: string[]): ReceivedMail {
  const root = splitPart(raw);
  const bodies: { text?: string; html?: string } = {};
  collectBodies(root, bodies);
  // Header bytes are UTF-8 when the client used SMTPUTF8; encoded words are ASCII either way.
  const headers = Object.fromEntries(
    Object.entries(root.headers).map(([k, v]) => [k, decodeWords(Buffer.from(v, 'latin1').toString('utf8'))]),
  );
  return {
    envelopeFrom,
    envelopeTo,
    headers,
    from: headers.from ?? '',
    to: headers.to ?? '',
    subject: headers.subject ?? '',
    ...bodies,
    raw: Buffer.from(raw, 'latin1').toString('utf8'),
  };
}

function splitPart(raw: string): Part {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function collectBodies(part: Part, out: { text?: string; html?: string }): void {
  const contentType = part.headers['content-type'] ?? 'text/plain';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  if (mediaType.startsWith('multipart/')) {
    const boundary = parameter(contentType, 'boundary');
    if (!boundary) return;
    const sections = part.body.split(new RegExp(`\\r?\\n?--${escapeRegExp(boundary)}(?:--)?[ \\t]*\\r?\\n?`));
    // First section is the preamble, the last the epilogue after the closing boundary.
    for (const section of sections.slice(1, -1)) collectBodies(splitPart(section), out);
    return;
  }
  if (mediaType !== 'text/plain' && mediaType !== 'text/html') return;
  if (/attachment/i.test(part.headers['content-disposition'] ?? '')) return;
  const bytes = decodeTransfer(part.body, part.headers['content-transfer-encoding'] ?? '7bit');
  // CRLF is the wire format, not what the sender wrote.
  const text = new TextDecoder(parameter(contentType, 'charset') ?? 'utf-8').decode(bytes).replace(/\r\n/g, '\n');
  if (mediaType === 'text/plain') out.text ??= text;
  else out.html ??= text;
}

function decodeTransfer(body: string, encoding: string): Buffer {
  switch (encoding.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return Buffer.from(body, 'latin1');
  }
}

function decodeQuotedPrintable(body: string): Buffer {
  // Whitespace before a soft break ("= ") is content; only whitespace ending a real line is padding.
  const unfolded = body.replace(/[ \t]+(\r?\n)/g, '$1').replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const hex = unfolded.slice(i + 1, i + 3);
    if (unfolded[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(unfolded.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047: `=?UTF-8?Q?Uw_code?=` and `=?UTF-8?B?...?=`; whitespace between adjacent words is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, charset: string, kind: string, text: string) => {
      const bytes = kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return new TextDecoder(charset.split('*')[0]).decode(bytes);
    });
}

function parameter(headerValue: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(headerValue);
  return match ? (match[1] ?? match[2]) : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
