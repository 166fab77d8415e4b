// The test doubles other suites rely on: their waiting and failure behaviour.
import { describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { startTestSmtpServer } from '../support/smtp-server.ts';
import { startFakeTwilio } from '../support/fake-twilio.ts';

describe('startTestSmtpServer', () => {
  it('hands out mails one by one in arrival order, and times out when none comes', async () => {
    const smtp = await startTestSmtpServer();
    const transport = nodemailer.createTransport({ url: smtp.url });
    try {
      const pending = smtp.waitForMail('a@example.nl');
      await transport.sendMail({ from: 'x@example.nl', to: 'a@example.nl', subject: 'first', text: 'one' });
      await transport.sendMail({ from: 'x@example.nl', to: 'A@example.nl', subject: 'second', text: 'two' });
      expect((await pending).subject).toBe('first');
      expect((await smtp.waitForMail('a@example.nl')).subject).toBe('second');
      await expect(smtp.waitForMail('a@example.nl', { timeoutMs: 50 })).rejects.toThrow(/no mail to a@example.nl/);
      expect(smtp.messages).toHaveLength(2);
    } finally {
      transport.close();
      await smtp.close();
    }
  });
});

describe('startFakeTwilio', () => {
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

  it('answers like Twilio: 401 without the right credentials, 404 elsewhere, failNext once', async () => {
    const fake = await startFakeTwilio();
    const url = `${fake.url}/2010-04-01/Accounts/${fake.accountSid}/Messages.json`;
    const auth = (token: string) => `Basic ${Buffer.from(`${fake.accountSid}:${token}`).toString('base64')}`;
    const post = (target: string, token: string, body: string) =>
      fetch(target, { method: 'POST', headers: { authorization: auth(token), 'content-type': 'application/x-www-form-urlencoded' }, body });
    try {
      const unauthorised = await post(url, 'nope', form({ To: '+31612345678', From: 'X', Body: 'b' }));
      expect(unauthorised.status).toBe(401);
      expect(await unauthorised.json()).toMatchObject({ code: 20003, status: 401, more_info: expect.stringContaining('20003') });

      const elsewhere = await post(`${fake.url}/2010-04-01/Accounts/ACother/Messages.json`, fake.authToken, '');
      expect(elsewhere.status).toBe(404);

      fake.failNext(429, 20429, 'Too Many Requests');
      const limited = await post(url, fake.authToken, form({ To: '+31612345678', From: 'X', Body: 'b' }));
      expect(limited.status).toBe(429);
      expect(await limited.json()).toEqual({ code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 });

      const created = await post(url, fake.authToken, form({ To: '+31612345678', From: 'X', Body: 'b' }));
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ sid: expect.stringMatching(/^SM/), status: 'queued', to: '+31612345678' });
      expect(fake.messages).toHaveLength(1);

      const missingBody = await post(url, fake.authToken, form({ To: '+31612345678', From: 'X' }));
      expect(missingBody.status).toBe(400);
      await expect(fake.waitForCall('+31612345678', { timeoutMs: 50 })).rejects.toThrow(/no call/);
    } finally {
      await fake.close();
    }
  });
});
