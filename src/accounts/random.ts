import { randomBytes, randomInt, createHash, timingSafeEqual } from 'node:crypto';

/** URL-safe random identifier with `bytes` of entropy. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** `length` decimal digits, uniformly distributed (leading zeros allowed). */
export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += String(randomInt(10));
  return out;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Constant-time comparison of two strings (length leak only). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
