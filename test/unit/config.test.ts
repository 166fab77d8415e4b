import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.ts';

describe('configuration', () => {
  it('has development defaults', () => {
    const config = loadConfig({});
    expect(config.issuer).toBe('http://localhost:3000');
    expect(config.database).toEqual({ kind: 'sqlite', file: 'data/poortwachter.sqlite' });
    expect(config.devOutbox).toBe(true);
  });

  it('reads DATABASE_URL for SQLite and MongoDB', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/x.db' }).database).toEqual({ kind: 'sqlite', file: '/tmp/x.db' });
    expect(loadConfig({ DATABASE_URL: 'mongodb://db:27017/pw' }).database).toEqual({ kind: 'mongo', url: 'mongodb://db:27017/pw' });
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
    }
  });

  it('wants all three Twilio settings or none', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' })).toThrow(/set all three or none/);
  });
});
