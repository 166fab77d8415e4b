// Keyed hashes for values that must be counted or compared but never kept: a typed login name,
// a phone number a patient types during recovery. HMAC-SHA256 with a key derived from SECRETS_KEY
// (bootstrap.ts), one `purpose` per use, so a database copy cannot be searched for a guessed
// value, and two uses never share a digest.
import { createHmac } from 'node:crypto';

export class KeyedHash {
  constructor(private readonly key: Buffer) {}

  of(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(purpose).update('\0').update(value).digest('base64url');
  }

  /** Raw digest bytes (for a stable pseudo-random choice, e.g. a decoy phone hint). */
  bytes(purpose: string, value: string): Buffer {
    return createHmac('sha256', this.key).update(purpose).update('\0').update(value).digest();
  }
}
