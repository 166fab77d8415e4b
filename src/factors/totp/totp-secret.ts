// What an authenticator app needs to be set up: a fresh secret, the otpauth:// URI (Google's
// Key Uri Format) as a QR code we render ourselves, and the key in groups of four for typing.
// Nothing here is sent to another service: the QR is a PNG data URL in the page.
import { generateSecret } from 'otplib';
import QRCode from 'qrcode';

export const TOTP_ISSUER = 'Poortwachter';
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** 20 bytes = 160 bits, the HMAC-SHA-1 block RFC 4226 recommends (otplib refuses < 16). */
const SECRET_BYTES = 20;

/** A new Base32 secret (32 characters). */
export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/**
 * `otpauth://totp/ZINN:<username>?secret=...&issuer=ZINN&algorithm=SHA1&digits=6&period=30`, the
 * issuer being the portal's (its brand's `totp_issuer`, else its name): patients look for their
 * portal in the app, not for us. The defaults are spelled out: some apps ignore missing
 * parameters in surprising ways.
 */
export function otpauthUri(username: string, secret: string, issuer: string = TOTP_ISSUER): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(username)}`;
  const params = new URLSearchParams({ secret, issuer, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_PERIOD_SECONDS) });
  return `otpauth://totp/${label}?${params.toString()}`;
}

/** `ABCDEFGH...` → `ABCD EFGH ...`: easier to read off and type into an app. */
export function groupedKey(secret: string): string {
  return secret.replace(/=+$/, '').match(/.{1,4}/g)?.join(' ') ?? '';
}

/** The URI as a PNG data URL (allowed by our CSP's `img-src data:`). */
export function qrDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 200 });
}
