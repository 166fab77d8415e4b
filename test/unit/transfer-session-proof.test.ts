// db export / db import carry a session's proofs as the store keeps them: a passkey's proof has
// `multiFactor` and `phishingResistant` marks, which the strict record check must let through
// (an export of a server with passwordless sessions would otherwise not import), and nothing else.
import { describe, expect, it } from 'vitest';
import { checkRecord, DumpLineError } from '../../src/admin/transfer/format.ts';

const proof = { factor: 'passkey', amr: ['hwk', 'user'], strength: 2, at: 1, replayed: false };
const record = (proofs: unknown[]) => ({ sessionUid: 's1', accountId: 'a1', proofs, login: null, expiresAt: 2 });

describe('session proofs in an export', () => {
  it('keep a passkey proof’s multi-factor and phishing-resistant marks', () => {
    const marked = { ...proof, multiFactor: true, phishingResistant: true };
    expect(checkRecord(1, 'session-proof', record([marked])).proofs).toEqual([marked]);
    expect(checkRecord(1, 'session-proof', record([proof])).proofs).toEqual([proof]);
  });

  it('refuse fields the store does not describe', () => {
    expect(() => checkRecord(1, 'session-proof', record([{ ...proof, multiFactor: 'yes' }]))).toThrow(DumpLineError);
    expect(() => checkRecord(1, 'session-proof', record([{ ...proof, secret: 'x' }]))).toThrow(DumpLineError);
  });
});
