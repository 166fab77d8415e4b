import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, SecretBox, UnreadableSecretError } from '../../src/accounts/secret-box.ts';

const key = Buffer.alloc(32, 1);
const other = Buffer.alloc(32, 2);

/** What the previous version wrote: `v1.iv.body.tag`, the key used directly. */
function sealV1(plaintext: string, k: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

describe('SecretBox', () => {
  const box = new SecretBox(key);

  it('seals with the key id and a fresh IV, and opens again', () => {
    const sealed = box.seal('+31612345616');
    expect(sealed.split('.')[0]).toBe('v2');
    expect(sealed.split('.')[1]).toBe(keyIdOf(key));
    expect(sealed).not.toContain('31612345616');
    expect(box.seal('+31612345616')).not.toBe(sealed);
    expect(box.open(sealed)).toBe('+31612345616');
  });

  it('never repeats an IV within a box, nor shares the prefix of another box', () => {
    const ivs = Array.from({ length: 1000 }, () => Buffer.from(box.seal('x').split('.')[2]!, 'base64url'));
    expect(new Set(ivs.map((iv) => iv.toString('hex'))).size).toBe(1000);
    expect(ivs.every((iv) => iv.length === 12 && iv.subarray(0, 8).equals(ivs[0]!.subarray(0, 8)))).toBe(true);
    const other = Buffer.from(new SecretBox(key).seal('x').split('.')[2]!, 'base64url');
    expect(other.subarray(0, 8).equals(ivs[0]!.subarray(0, 8))).toBe(false);
  });

  it('opens what it sealed', () => {
    const sealed = box.seal('+31612345616');
    expect(box.open(sealed)).toBe('+31612345616');
    expect(SecretBox.isSealed(sealed)).toBe(true);
    expect(SecretBox.isSealed('plain-client-secret_abc')).toBe(false);
  });

  it('binds a sealed value to its context', () => {
    const sealed = box.seal('secret', 'client-secret:a');
    expect(box.open(sealed, 'client-secret:a')).toBe('secret');
    expect(() => box.open(sealed, 'client-secret:b')).toThrow();
  });

  it('opens what the previous version sealed', () => {
    const legacy = sealV1('JBSWY3DPEHPK3PXP', key);
    expect(SecretBox.isSealed(legacy)).toBe(true);
    expect(box.open(legacy)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('names the key it needs, and opens with a previous key after a rotation', () => {
    const sealedWithOld = new SecretBox(other).seal('old secret');
    expect(() => box.open(sealedWithOld)).toThrow(UnreadableSecretError);
    expect(() => box.open(sealedWithOld)).toThrow(keyIdOf(other));
    const rotated = new SecretBox(key, [other]);
    expect(rotated.open(sealedWithOld)).toBe('old secret');
    expect(rotated.seal('new').split('.')[1]).toBe(keyIdOf(key));
  });

  it('refuses a tampered value', () => {
    const [version, kid, iv, body, tag] = box.seal('secret').split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => box.open([version, kid, iv, flipped.toString('base64url'), tag].join('.'))).toThrow();
  });

  it('answers a value sealed for another context, or tampered, with an UnreadableSecretError', () => {
    const sealed = box.seal('+31612345616', 'account-phone:a');
    expect(() => box.open(sealed, 'account-phone:b')).toThrow(UnreadableSecretError);
    expect(() => box.open(sealed)).toThrow(UnreadableSecretError);
    expect(() => box.open(sealV1('x', other))).toThrow(UnreadableSecretError);
  });

  it('opens bound values only as their own context, never unbound or v1 ones (those open under any context)', () => {
    const bound = box.seal('+31612345616', 'account-phone:a');
    expect(box.openBound(bound, 'account-phone:a')).toBe('+31612345616');
    expect(box.tryOpenBound(bound, 'account-phone:b')).toBeUndefined();
    expect(box.tryOpenBound(box.seal('+31612345616'), 'account-phone:a')).toBeUndefined();
    const legacy = sealV1('+31612345616', key);
    expect(box.open(legacy, 'account-phone:a')).toBe('+31612345616');
    expect(() => box.openBound(legacy, 'account-phone:a')).toThrow(UnreadableSecretError);
    expect(box.tryOpenUnbound(legacy)).toBe('+31612345616');
    expect(() => box.openBound(bound, '')).toThrow('context');
  });

  it('a malformed sealed value (an IV or tag of the wrong length) is unreadable, never a TypeError: try-opens answer undefined', () => {
    const iv = randomBytes(12).toString('base64url');
    const malformed = [
      `v2.${box.keyId}.${iv}.x.AAAA`,
      `v2.${box.keyId}.AAAA.x.${randomBytes(16).toString('base64url')}`,
      `v1.${iv}.x.AAAA`,
      `v1.AAAA.x.${randomBytes(16).toString('base64url')}`,
    ];
    for (const sealed of malformed) {
      expect(() => box.open(sealed)).toThrow(UnreadableSecretError);
      expect(box.tryOpenBound(sealed, 'account-phone:a')).toBeUndefined();
      expect(box.tryOpenUnbound(sealed)).toBeUndefined();
    }
  });
});
