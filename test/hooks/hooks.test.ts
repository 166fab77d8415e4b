// The after-hooks on their own, against the real services of a running server (real SQLite, real
// SMTP): what each does with the events a flow recorded, and what it leaves alone. Their place in
// the flows is covered where the flows are (a binding's notice, /account's revocation, the forced
// password change in test/actions/update-password.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditHook, clearLockHook, notifyHook, revokeHook, type HookContext } from '../../src/hooks/registry.ts';
import type { AccountRecord } from '../../src/store/port.ts';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';

describe('after-hooks', () => {
  let world: FactorWorld;

  beforeAll(async () => {
    world = await startFactorWorld();
  });
  afterAll(() => world?.close());

  function context(account: AccountRecord, overrides: Partial<HookContext> = {}): HookContext {
    return { services: world.server.services, kind: 'login', account, clientId: 'zinn', portal: 'ZINN', ip: '192.0.2.7', ...overrides };
  }

  it('audit: names each event after the flow kind, with account, portal and address; a binding and a password change are audited where they happen', async () => {
    const account = await world.server.addUser({ username: 'hook-audit' });
    await auditHook.run(context(account), [
      { type: 'completed', detail: { acr: 'urn:poortwachter:acr:low', amr: ['pwd'] } },
      { type: 'action_completed', action: 'verify-email' },
      { type: 'password_changed' },
      { type: 'authenticator_bound', factor: 'totp', replaced: false, before: account },
    ]);
    await auditHook.run(context(account, { kind: 'settings', clientId: null }), [{ type: 'factor_setting', factor: 'recovery', action: 'regenerate', replaced: true }]);
    const events = await world.server.services.store.audit.list({ accountId: account.id, limit: 10 });
    expect(events.map((e) => [e.type, e.clientId, e.ip, e.detail]).reverse()).toEqual([
      ['login.completed', 'zinn', '192.0.2.7', { acr: 'urn:poortwachter:acr:low', amr: ['pwd'] }],
      ['login.action_completed', 'zinn', '192.0.2.7', { action: 'verify-email' }],
      ['settings.recovery', null, '192.0.2.7', { action: 'regenerate' }],
    ]);
  });

  it('notify: a changed password is told by mail in the account language, naming where it happened', async () => {
    const account = await world.server.addUser({ username: 'hook-notify', locale: 'en' });
    await notifyHook.run(context(account), [{ type: 'password_changed' }, { type: 'completed', detail: {} }]);
    const mail = await world.smtp.waitForMail(account.email);
    expect(mail.subject).toBe('The password of your account was changed');
    expect(mail.text).toContain('while signing in to ZINN');
    expect(mail.text).toContain('Was this not you?');
  });

  it('notify: a binding that changed the phone number says so, never with the full number', async () => {
    const before = await world.server.addUser({ username: 'hook-nummer', phoneE164: '+31630000071', phoneVerified: true });
    const after = await world.server.services.accounts.setPhone(before, '+31630000072', true);
    await notifyHook.run(context(after, { portal: undefined }), [{ type: 'authenticator_bound', factor: 'sms', replaced: true, before }]);
    const mail = await world.smtp.waitForMail(after.email);
    expect(mail.subject).toBe('Het telefoonnummer van uw account is gewijzigd');
    expect(mail.text).toContain('op uw accountpagina');
    expect(mail.raw).not.toContain('630000072');
  });

  it('revoke: remembered devices go when a factor is removed, set up again or the password changes, not otherwise', async () => {
    const account = await world.server.addUser({ username: 'hook-revoke' });
    const { devices } = world.server.services;
    const remember = () => devices.remember(account, { factor: 'sms', amr: ['sms'], strength: 2 }, 'urn:poortwachter:acr:substantial', 'test');
    await remember();
    await revokeHook.run(context(account), [{ type: 'completed', detail: {} }, { type: 'factor_enrolled', factor: 'totp' }]);
    expect(await devices.list(account.id)).toHaveLength(1);
    for (const event of [{ type: 'factor_removed', factor: 'sms' }, { type: 'authenticator_bound', factor: 'sms', replaced: true, before: account }, { type: 'password_changed' }] as const) {
      await remember();
      await revokeHook.run(context(account), [event]);
      expect(await devices.list(account.id), event.type).toHaveLength(0);
    }
  });

  it('clear-lock: a new password lifts a lock; other events leave it', async () => {
    const account = await world.server.addUser({ username: 'hook-slot' });
    const { lockout } = world.server.services;
    for (let i = 0; i < 5; i += 1) await lockout.admitAccount(account.id);
    await clearLockHook.run(context(account), [{ type: 'completed', detail: {} }]);
    expect((await lockout.status(account)).state).not.toBe('open');
    await clearLockHook.run(context(account), [{ type: 'password_changed' }]);
    expect((await lockout.status(account)).state).toBe('open');
  });
});
