import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError, webauthnRelyingParty } from '../../src/config.ts';

describe('configuration', () => {
  it('has development defaults', () => {
    const config = loadConfig({});
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database).toEqual({ kind: 'sqlite', file: 'data/poortwachter.sqlite' });
    expect(config.devOutbox).toBe(true);
  });

  it('reads DATABASE_URL for SQLite and MongoDB', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ kind: 'sqlite', file: '/tmp/x.db' });
    expect(loadConfig({ DATABASE_URL: 'mongodb://db:27017/pw' }).database).toEqual({ kind: 'mongo', url: 'mongodb://db:27017/pw', migrate: 'auto' });
  });

  it('takes SQLITE_SYNCHRONOUS as an override of the store default (FULL)', () => {
    expect(loadConfig({ SQLITE_SYNCHRONOUS: 'NORMAL' }).database).toEqual({ kind: 'sqlite', file: 'data/poortwachter.sqlite', synchronous: 'NORMAL' });
    expect(() => loadConfig({ SQLITE_SYNCHRONOUS: 'OFF' })).toThrow(/SQLITE_SYNCHRONOUS/);
  });

  it('names every problem in production at once', () => {
    try {
      loadConfig({ NODE_ENV: 'production', ISSUER: 'http://idp.example', PORT: 'abc' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/PORT/);
    }
    try {
      loadConfig({ NODE_ENV: 'production', ISSUER: 'http://idp.example' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toMatch(/SECRETS_KEY/);
      expect(message).toMatch(/ISSUER: must be https/);
      expect(message).toMatch(/SMTP_URL/);
      expect(message).toMatch(/TRUST_PROXY: must be true/);
      expect(message).toMatch(/METRICS_TOKEN or METRICS_ALLOW/);
    }
  });

  it('wants all three Twilio settings or none', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' })).toThrow(/set all three or none/);
  });

  it('gives requests in flight 10 s on shutdown unless SHUTDOWN_TIMEOUT_SECONDS says otherwise', () => {
    expect(loadConfig({}).shutdownTimeoutSeconds).toBe(10);
    expect(loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '2.5' }).shutdownTimeoutSeconds).toBe(2.5);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: 'soon' })).toThrow(/SHUTDOWN_TIMEOUT_SECONDS/);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_SECONDS: '-1' })).toThrow(/SHUTDOWN_TIMEOUT_SECONDS/);
  });
});

describe('passkey relying party (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS)', () => {
  it('follows ISSUER by default, also when the issuer changes after start', () => {
    const config = loadConfig({ ISSUER: 'https://login.zorg.example/' });
    expect(webauthnRelyingParty(config)).toEqual({ rpId: 'login.zorg.example', origins: ['https://login.zorg.example'] });
    config.issuer = 'http://localhost:4123';
    expect(webauthnRelyingParty(config)).toEqual({ rpId: 'localhost', origins: ['http://localhost:4123'] });
  });

  it('takes a parent domain as RP ID and several public origins under it', () => {
    const config = loadConfig({
      ISSUER: 'https://login.zorg.example',
      WEBAUTHN_RP_ID: 'Zorg.Example',
      WEBAUTHN_ORIGINS: 'https://login.zorg.example, https://inloggen.zorg.example/',
    });
    expect(webauthnRelyingParty(config)).toEqual({ rpId: 'zorg.example', origins: ['https://login.zorg.example', 'https://inloggen.zorg.example'] });
  });

  it('stores a Unicode RP ID in the ASCII form browsers use', () => {
    const config = loadConfig({ ISSUER: 'https://login.zorgü.example', WEBAUTHN_RP_ID: 'zorgü.example' });
    expect(webauthnRelyingParty(config)).toEqual({ rpId: 'xn--zorg-3ra.example', origins: ['https://login.xn--zorg-3ra.example'] });
  });

  it('refuses an RP ID that is not the host or a parent domain of every origin', () => {
    expect(() => loadConfig({ ISSUER: 'https://login.zorg.example', WEBAUTHN_RP_ID: 'other.example' }))
      .toThrow(/WEBAUTHN_RP_ID: "other.example" is not login.zorg.example or a parent domain/);
    // A suffix of the text is not a parent domain.
    expect(() => loadConfig({ ISSUER: 'https://evilzorg.example', WEBAUTHN_RP_ID: 'zorg.example' })).toThrow(/not evilzorg.example or a parent/);
    expect(() => loadConfig({ ISSUER: 'https://login.zorg.example', WEBAUTHN_ORIGINS: 'https://login.zorg.example,https://phish.example' }))
      .toThrow(/not phish.example or a parent domain/);
  });

  it('refuses origins with a path, non-URLs, an empty list and a malformed RP ID', () => {
    expect(() => loadConfig({ WEBAUTHN_ORIGINS: 'http://localhost:3000/login' })).toThrow(/must be only scheme:\/\/host\[:port\], e.g. http:\/\/localhost:3000/);
    expect(() => loadConfig({ WEBAUTHN_ORIGINS: 'localhost' })).toThrow(/"localhost" is not a URL/);
    expect(() => loadConfig({ WEBAUTHN_ORIGINS: ' , ' })).toThrow(/names no origin/);
    expect(() => loadConfig({ WEBAUTHN_RP_ID: 'https://localhost' })).toThrow(/is not a domain name/);
  });

  it('wants https origins and a domain (not an IP address) in production', () => {
    const production = { NODE_ENV: 'production', SECRETS_KEY: 'a'.repeat(43) + '=', SMTP_URL: 'smtp://mail', TRUST_PROXY: 'true', METRICS_TOKEN: 'm'.repeat(32) };
    expect(() => loadConfig({ ...production, ISSUER: 'https://login.zorg.example', WEBAUTHN_ORIGINS: 'http://login.zorg.example' })).toThrow(/must be https:\/\//);
    expect(() => loadConfig({ ...production, ISSUER: 'https://192.0.2.10' })).toThrow(/"192.0.2.10" is an IP address/);
    expect(loadConfig({ ...production, ISSUER: 'https://login.zorg.example' }).webauthn).toEqual({ rpId: undefined, origins: undefined });
    // Development and tests may run on an address; browsers then offer no passkeys there.
    expect(webauthnRelyingParty(loadConfig({ ISSUER: 'http://127.0.0.1:3000' })).rpId).toBe('127.0.0.1');
  });
});
