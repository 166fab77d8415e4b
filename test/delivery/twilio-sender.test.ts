import { describe, expect, it } from 'vitest';
import { createTwilioSender, rebaseTwilioUrl } from '../../src/delivery/twilio-sender.ts';
import { startFakeTwilio } from '../support/fake-twilio.ts';

describe('rebaseTwilioUrl', () => {
  it('replaces the origin and keeps path and query', () => {
    expect(rebaseTwilioUrl('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?PageSize=5', 'http://127.0.0.1:4010')).toBe(
      'http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages.json?PageSize=5',
    );
    expect(rebaseTwilioUrl('https://api.dublin.ie1.twilio.com/2010-04-01/Calls.json', 'https://edge.example.nl/')).toBe(
      'https://edge.example.nl/2010-04-01/Calls.json',
    );
  });

  it('puts a path of the base URL in front of the request path', () => {
    expect(rebaseTwilioUrl('https://api.twilio.com/2010-04-01/Calls.json', 'https://proxy.example.nl/twilio/')).toBe(
      'https://proxy.example.nl/twilio/2010-04-01/Calls.json',
    );
  });
});

describe('createTwilioSender', () => {
  it('returns the provider sids and sends the account credentials only to the configured API', async () => {
    const fake = await startFakeTwilio();
    try {
      const sender = createTwilioSender({ accountSid: fake.accountSid, authToken: fake.authToken, from: 'ZINNZORG', apiUrl: fake.url });
      expect(sender.canCallFromDefault).toBe(false);
      const { sid } = await sender.sendSms({ to: '+31612345678', body: 'hallo' });
      expect(fake.messages).toEqual([{ sid, to: '+31612345678', from: 'ZINNZORG', body: 'hallo' }]);
      await expect(sender.placeCall({ to: '+31612345678', twiml: '<Response/>' })).rejects.toThrow(TypeError);
    } finally {
      await fake.close();
    }
  });

  it('refuses an account sid that is not one, at construction', () => {
    expect(() => createTwilioSender({ accountSid: 'SK123', authToken: 't', from: '+3197010000000' })).toThrow(/AC/);
  });
});
