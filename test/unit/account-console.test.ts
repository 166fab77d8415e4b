// The account console's pure parts: a device named from its user agent (bowser, no lookup
// service), the audit trail in plain words (only what a patient recognises, within the window,
// in Dutch and English), and what counts as a new e-mail address.
import { describe, expect, it } from 'vitest';
import { describeUserAgent } from '../../src/accounts/device-description.ts';
import { activityLines } from '../../src/flows/settings/activity.ts';
import { normaliseAddress } from '../../src/accounts/email-change.ts';
import { translator } from '../../src/i18n/i18n.ts';
import type { AuditEvent } from '../../src/store/port.ts';

describe('describeUserAgent', () => {
  it('names browser and OS with major versions only', () => {
    expect(describeUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0')).toEqual({ browser: 'Firefox 128', os: 'Windows 10' });
    expect(describeUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1')).toEqual({ browser: 'Safari 17', os: 'iOS 17' });
    expect(describeUserAgent('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36')).toEqual({ browser: 'Chrome 131', os: 'Linux' });
  });

  it('says nothing it does not know', () => {
    expect(describeUserAgent('')).toEqual({ browser: undefined, os: undefined });
    expect(describeUserAgent('browser')).toEqual({ browser: undefined, os: undefined });
  });
});

describe('activityLines', () => {
  const DAY = 24 * 3600_000;
  const now = Date.UTC(2025, 5, 1);
  const event = (type: string, at: number, detail: Record<string, unknown> = {}, clientId: string | null = 'zinn'): AuditEvent => ({ id: type + at, at, type, accountId: 'a', clientId, ip: '192.0.2.1', actor: null, userAgent: null, detail });
  const names = (clientId: string | null) => (clientId === 'zinn' ? 'ZINN' : 'uw accountpagina');

  it('words logins, failures and changes, and leaves out what a patient would not recognise', () => {
    const lines = activityLines([
      event('login.completed', now - 1000, { acr: 'x', amr: ['pwd', 'sms', 'mfa'] }),
      event('login.sms.failed', now - 2000),
      event('login.password.failed', now - 3000),
      event('notice.sent', now - 4000, { kind: 'method_added' }),
      event('settings.factor_removed', now - 5000, { factor: 'totp' }, null),
      event('settings.email_changed', now - 6000, {}, null),
    ], now - 90 * DAY, names, translator('nl'));
    expect(lines.map((l) => [l.text, l.warning])).toEqual([
      ['Ingelogd bij ZINN met wachtwoord, sms-code.', false],
      ['Mislukte inlogpoging bij ZINN: verkeerde code.', true],
      ['Mislukte inlogpoging bij ZINN: verkeerd wachtwoord.', true],
      ['Inlogmethode verwijderd: Authenticator-app.', false],
      ['E-mailadres gewijzigd.', false],
    ]);
  });

  it('keeps only the window asked for, and speaks English too', () => {
    const lines = activityLines([event('login.completed', now, { amr: ['pwd', 'otp'] }), event('login.completed', now - 91 * DAY, { amr: ['pwd'] })], now - 90 * DAY, names, translator('en'));
    expect(lines.map((l) => l.text)).toEqual(['Signed in to ZINN with password, authenticator app or recovery code.']);
  });
});

describe('normaliseAddress', () => {
  it('accepts an address as typed, trimmed', () => {
    expect(normaliseAddress('  naam@voorbeeld.nl ')).toBe('naam@voorbeeld.nl');
  });
  it.each(['', 'geen-adres', 'a@b', 'a b@c.nl', 'a@b.nl, c@d.nl', '<a@b.nl>', `${'x'.repeat(250)}@b.nl`])('refuses %j', (typed) => {
    expect(normaliseAddress(typed)).toBeUndefined();
  });
});
