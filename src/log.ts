// Structured logging (pino). Redaction is a second line of defence: code must never pass a
// password, code, secret, token or full phone number to the logger in the first place.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACTED_KEYS = [
  'password', 'code', 'secret', 'token', 'phone', 'authorization', 'cookie',
  'access_token', 'refresh_token', 'id_token', 'client_secret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return pino({ level, redact: { paths, censor: '[redacted]' }, base: undefined }, destination as pino.DestinationStream | undefined);
}

/** `+31612345616` → `*****16`: the only form in which a phone number may be shown or logged. */
export function maskPhone(lastDigits: string | null | undefined): string {
  return lastDigits ? `*****${lastDigits.slice(-2)}` : '';
}
