// Moving an installation with `poortwachter db export` / `db import`, as tests need it: a source
// with every kind of record written by the real server (an app enrolled through its pages,
// recovery codes, SMS and e-mail factors, a portal with a secret, keys, a remembered device, a
// lockout, audit events), the CLI run in-process with its own environment, the records of both
// stores (the CLI through ./cli.ts), and a login on the target with the same app and client secret.
import { expect } from 'vitest';
import { FakeClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { openStore } from '../../src/store/open.ts';
import type { Store, TransferRecords, TransferType } from '../../src/store/port.ts';
import { TRANSFER_TYPES, LIVE_TYPES, transferKey } from '../../src/store/transfer.ts';
import { recordsOf } from '../../src/admin/transfer/export.ts';
import { startTestServer } from './server.ts';
import { REDIRECT_URI, relyingParty } from './relying-party.ts';
import { UserAgent } from './user-agent.ts';
import { enrolWithApp, loginToSecondFactor, STEP_MS, stepAlignedTime, totpCode } from './totp.ts';
import { finishAtPortal, giveCredential, userWithFactors } from './factor-login.ts';

export interface Source {
  clientId: string;
  clientSecret: string;
  totpKey: string;
  recoveryCodes: string[];
  clock: FakeClock;
}

/** Writes one of every kind of record into the store `env` names, through the real server. */
export async function seedSource(env: Record<string, string>): Promise<Source> {
  const clock = new FakeClock(stepAlignedTime());
  const server = await startTestServer({ clock, env });
  try {
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], name: 'Minddistrict', mfa: 'required', mfaMethods: ['totp'] });
    const rp = await relyingParty(server.url, client.clientId, client.clientSecret);
    await server.addUser({ username: 'anna', phoneE164: '+31612345678', phoneVerified: true });
    const enrolment = await enrolWithApp(rp, new UserAgent(), clock, 'anna');
    const bram = await userWithFactors(server, { username: 'bram', phoneE164: '+31687654321' }, ['sms']);
    await giveCredential(server, bram, 'email', { note: 'e-mail codes' });
    const { store } = server.services;
    const now = clock.now();
    await store.devices.put({ id: 'device-1', accountId: bram.id, secretHash: 'a'.repeat(64), factor: 'sms', strength: 2, amr: ['sms'], acr: 'substantial', label: 'Firefox op Linux', createdAt: now, expiresAt: now + 30 * 86_400_000, lastUsedAt: null });
    await store.lockouts.update(`account:${bram.id}`, now, () => ({
      next: { key: `account:${bram.id}`, consecutiveFailures: 3, failuresSinceSuccess: 7, locks: 1, lockedUntil: now + 60_000, hardLocked: false, updatedAt: now, expiresAt: null },
      result: undefined,
    }));
    // What the admin side adds: a password profile, an organisation with a patient and the portal, a practice admin.
    await store.passwordProfiles.put({ name: 'flynth', minLength: 8, maxLength: 64, require: ['upper', 'digit'], specials: null, blocklist: true, notNames: true, history: 5, createdAt: now, updatedAt: now });
    await store.organisations.create({ id: 'praktijk-noord', name: 'Praktijk Noord', createdAt: now, updatedAt: now });
    await store.organisations.create({ id: 'praktijk-zuid', name: 'Praktijk Zuid', createdAt: now, updatedAt: now });
    await store.organisations.setMemberships('account', bram.id, ['praktijk-noord', 'praktijk-zuid']);
    await store.organisations.setMemberships('client', client.clientId, ['praktijk-noord']);
    await store.adminGrants.put({ accountId: bram.id, role: 'practice', organisations: ['praktijk-noord'], grantedAt: now, grantedBy: 'cli:test' });
    await store.accountPortals.record(bram.id, client.clientId, now - 86_400_000);
    await store.accountPortals.record(bram.id, client.clientId, now);
    clock.advance(5 * STEP_MS);
    return { clientId: client.clientId, clientSecret: client.clientSecret!, totpKey: enrolment.key, recoveryCodes: enrolment.recoveryCodes, clock };
  } finally {
    await server.close();
  }
}

/** The store `env` names, opened as the server would. */
export function openConfigured(env: Record<string, string>): Promise<Store> {
  return openStore(loadConfig({ NODE_ENV: 'test', ...env }).database);
}

async function all<K extends TransferType>(store: Store, type: K): Promise<Map<string, TransferRecords[K]>> {
  const records = new Map<string, TransferRecords[K]>();
  for await (const record of recordsOf(store, type)) records.set(transferKey(type, record), record);
  return records;
}

/** The administrative events the export and import themselves write: not part of the dump. */
const OWN_EVENTS = new Set(['admin.db.exported', 'admin.db.imported']);

/**
 * Every record of every exported type is in the target with every field equal, and nothing else
 * (but the import's own audit event). Returns how many records of each type were compared.
 */
export async function expectSameRecords(source: Store, target: Store, options: { live: boolean }): Promise<Record<string, number>> {
  const compared: Record<string, number> = {};
  for (const type of TRANSFER_TYPES) {
    if (LIVE_TYPES.has(type) && !options.live) continue;
    const [from, to] = [await all(source, type), await all(target, type)];
    if (type === 'audit') {
      for (const [key, event] of [...from, ...to]) if (OWN_EVENTS.has((event as TransferRecords['audit']).type)) { from.delete(key); to.delete(key); }
    }
    expect([...to.keys()].sort(), `${type} keys`).toEqual([...from.keys()].sort());
    for (const [key, record] of from) expect(to.get(key), `${type} ${key}`).toStrictEqual(record);
    compared[type] = from.size;
  }
  return compared;
}

/** A login at the portal on the target: password, then the same app's code, tokens with the same client secret. */
export async function loginWithApp(env: Record<string, string>, source: Source): Promise<void> {
  const server = await startTestServer({ clock: source.clock, env });
  try {
    const rp = await relyingParty(server.url, source.clientId, source.clientSecret);
    const agent = new UserAgent();
    const { request, page } = await loginToSecondFactor(rp, agent, 'anna');
    const done = await agent.submit(page, '/step/totp/verify', { code: await totpCode(source.totpKey, source.clock.now()) }, REDIRECT_URI);
    const { claims } = await finishAtPortal(rp, done, request);
    expect(claims.acr).toBe('urn:poortwachter:acr:substantial');
    expect(claims.amr).toEqual(expect.arrayContaining(['otp']));
  } finally {
    await server.close();
  }
}
