// The self-hosted CAPTCHA of the recovery flow: an ALTCHA proof of work (altcha-lib on the
// server, the altcha widget served by us: web/vendor-scripts.ts). No third party sees the patient.
//
// - Challenges are HMAC-signed with keys derived from SECRETS_KEY by HKDF (own info strings), so
//   a forged or altered challenge fails, and a database copy holds nothing that signs one.
// - Deterministic mode: we draw the counter the solver must reach (the work) and sign the derived
//   key, so verifying costs one HMAC, not a key derivation.
// - Expiry is judged on our clock (tests move a FakeClock): it travels signed in the challenge's
//   `data.exp` (milliseconds), not in the library's `expiresAt`, which the library compares with
//   the wall clock.
// - Single use: a verified solution is spent in the shared store (a throttle record that lives
//   until the challenge would have expired), so a replayed payload fails, also on another process.
import { hkdfSync, createHash } from 'node:crypto';
import { z } from 'zod';
import { createChallenge, randomInt, verifySolution, type Challenge } from 'altcha-lib';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import { deriveKey as sha } from 'altcha-lib/algorithms/sha';
import type { Clock } from '../clock.ts';
import type { Limits } from './limits.ts';
import type { RecoveryPolicy } from '../policy/defaults.ts';

/** Why a CAPTCHA answer was refused; the audit trail keeps it, the patient reads one message. */
export type CaptchaRefusal = 'missing' | 'malformed' | 'forged' | 'expired' | 'replayed' | 'wrong';

export type CaptchaCheck = { ok: true } | { ok: false; reason: CaptchaRefusal };

/** A payload is a few hundred bytes of base64 JSON; anything much larger is not one. */
const MAX_PAYLOAD = 4096;
const hex = z.string().regex(/^[0-9a-f]{1,256}$/);

const payloadSchema = z.object({
  challenge: z.object({
    parameters: z.object({
      algorithm: z.string().max(32),
      nonce: hex,
      salt: hex,
      cost: z.number().int().positive(),
      keyLength: z.number().int().positive().max(64),
      keyPrefix: hex,
      keySignature: hex.optional(),
      memoryCost: z.number().int().positive().optional(),
      parallelism: z.number().int().positive().optional(),
      expiresAt: z.number().int().positive().optional(),
      data: z.object({ exp: z.number().int().positive() }),
    }),
    signature: hex,
  }),
  solution: z.object({ counter: z.number().int().min(0), derivedKey: hex, time: z.number().optional() }),
});

function derive(secretsKey: Buffer, info: string): string {
  return Buffer.from(hkdfSync('sha256', secretsKey, 'poortwachter', info, 32)).toString('hex');
}

export class Captcha {
  private readonly signatureSecret: string;
  private readonly keySignatureSecret: string;

  constructor(
    secretsKey: Buffer,
    private readonly limits: Limits,
    private readonly clock: Clock,
    private readonly policy: RecoveryPolicy['captcha'],
  ) {
    this.signatureSecret = derive(secretsKey, 'captcha-challenge-signature');
    this.keySignatureSecret = derive(secretsKey, 'captcha-key-signature');
  }

  private deriveKey() {
    return this.policy.algorithm === 'SHA-256' ? sha : pbkdf2;
  }

  /** A fresh signed challenge, as the widget fetches it (JSON). */
  challenge(): Promise<Challenge> {
    return createChallenge({
      algorithm: this.policy.algorithm,
      cost: this.policy.cost,
      counter: randomInt(this.policy.counterMin, this.policy.counterMax),
      deriveKey: this.deriveKey(),
      data: { exp: this.clock.now() + this.policy.ttlSeconds * 1000 },
      hmacSignatureSecret: this.signatureSecret,
      hmacKeySignatureSecret: this.keySignatureSecret,
    });
  }

  /** Checks the widget's payload (base64 JSON) and spends it: a second use of the same solution fails. */
  async verify(payload: string | undefined): Promise<CaptchaCheck> {
    if (!payload) return { ok: false, reason: 'missing' };
    if (payload.length > MAX_PAYLOAD) return { ok: false, reason: 'malformed' };
    let json: unknown;
    try {
      json = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    const parsed = payloadSchema.safeParse(json);
    if (!parsed.success) return { ok: false, reason: 'malformed' };
    // Checked for shape, handed over as sent: the signature covers exactly what was signed.
    const { challenge, solution } = json as { challenge: Challenge & { signature: string; parameters: { data: { exp: number } } }; solution: { counter: number; derivedKey: string } };
    const expiresAt = challenge.parameters.data.exp;
    if (expiresAt <= this.clock.now()) return { ok: false, reason: 'expired' };
    let result;
    try {
      result = await verifySolution({
        challenge,
        solution,
        deriveKey: this.deriveKey(),
        hmacSignatureSecret: this.signatureSecret,
        hmacKeySignatureSecret: this.keySignatureSecret,
      });
    } catch {
      // An algorithm name the library does not know, and the like: not a challenge of ours.
      return { ok: false, reason: 'forged' };
    }
    if (result.expired) return { ok: false, reason: 'expired' };
    if (result.invalidSignature !== false) return { ok: false, reason: 'forged' };
    if (!result.verified) return { ok: false, reason: 'wrong' };
    // Spent for as long as the challenge could still verify: the first use wins, in every process.
    const spentKey = `captcha-spent:${createHash('sha256').update(challenge.signature).digest('base64url')}`;
    const left = await this.limits.hit(spentKey, { max: 1, windowMs: Math.max(1000, expiresAt - this.clock.now()) });
    if (left < 0) return { ok: false, reason: 'replayed' };
    return { ok: true };
  }
}
