// Structured logging (pino). Redaction is a second line of defence: code must never pass a
// password, code, secret, token or full phone number to the logger in the first place.
// Every line written while a request is served carries that request's id (request-context.ts),
// so one request's lines can be found together, whichever part of the code wrote them.
import { pino, type Logger } from 'pino';
import { currentRequest } from './request-context.ts';

export type { Logger };

const REDACTED_KEYS = [
  'password', 'code', 'secret', 'token', 'phone', 'authorization', 'cookie',
  'access_token', 'refresh_token', 'id_token', 'client_secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const paths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
  return pino({ level, redact: { paths, censor: '[redacted]' }, base: undefined, mixin: requestFields }, destination);
}

function requestFields(): { requestId?: string } {
  const request = currentRequest();
  return request ? { requestId: request.requestId } : {};
}

/** `+31612345616` → `*****16`: the only form in which a phone number may be shown or logged. */
export function maskPhone(lastDigits: string | null | undefined): string {
  return lastDigits ? `*****${lastDigits.slice(-2)}` : '';
}
