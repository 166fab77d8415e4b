// The CAPTCHA service on its own: a solved challenge passes once; a replay, a changed challenge,
// an expired one (on our clock) and junk are refused. The store is a real SQLite file.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { Captcha } from '../../src/accounts/captcha.ts';
import { Limits } from '../../src/accounts/limits.ts';
import { FakeClock } from '../../src/clock.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/port.ts';

const KEY = Buffer.alloc(32, 7);
const POLICY = { algorithm: 'PBKDF2/SHA-256' as const, cost: 10, counterMin: 10, counterMax: 30, ttlSeconds: 600 };
let dir: string;
let store: Store;
const clock = new FakeClock(Date.UTC(2025, 0, 15));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'captcha-'));
  store = await openSqliteStore(path.join(dir, 'db.sqlite'));
});
afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

async function solved(captcha: Captcha): Promise<string> {
  const challenge = await captcha.challenge();
  const solution = await solveChallenge({ challenge, deriveKey });
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

describe('Captcha', () => {
  it('a solved challenge passes once; its replay fails', async () => {
    const captcha = new Captcha(KEY, new Limits(store, clock), clock, POLICY);
    const payload = await solved(captcha);
    expect(await captcha.verify(payload)).toEqual({ ok: true });
    expect(await captcha.verify(payload)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('refuses a challenge signed with another key, a changed one, an expired one and junk', async () => {
    const captcha = new Captcha(KEY, new Limits(store, clock), clock, POLICY);
    const foreign = await solved(new Captcha(Buffer.alloc(32, 8), new Limits(store, clock), clock, POLICY));
    expect(await captcha.verify(foreign)).toEqual({ ok: false, reason: 'forged' });
    const payload = JSON.parse(Buffer.from(await solved(captcha), 'base64').toString()) as { challenge: { parameters: { data: { exp: number } } } };
    payload.challenge.parameters.data.exp += 3_600_000;
    expect(await captcha.verify(Buffer.from(JSON.stringify(payload)).toString('base64'))).toEqual({ ok: false, reason: 'forged' });
    const stale = await solved(captcha);
    clock.advance(601_000);
    expect(await captcha.verify(stale)).toEqual({ ok: false, reason: 'expired' });
    expect(await captcha.verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(await captcha.verify('x'.repeat(5000))).toEqual({ ok: false, reason: 'malformed' });
    expect(await captcha.verify('bm90IGpzb24=')).toEqual({ ok: false, reason: 'malformed' });
  });
});
