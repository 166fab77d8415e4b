// createDelivery end to end: the real nodemailer pool against a real SMTP server, and the real
// twilio client against a local fake of the Twilio API (reached through TWILIO_API_URL).
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import {
  buildCodeCallTwiml,
  createDelivery,
  DeliveryFailedError,
  DeliveryUnavailableError,
  DevOutbox,
  type DeliveryService,
} from '../../src/delivery/index.ts';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp-server.ts';
import { startFakeTwilio, type FakeTwilio } from '../support/fake-twilio.ts';

const PHONE = '+31612345678';
const CODE = '482913';
const VOICE_NUMBER = '+3197010000000';

function captureLogs() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines, text: () => lines.join('\n') };
}

function configFor(env: Partial<Env>) {
  return loadConfig({ NODE_ENV: 'test', ...env } as Record<string, string | undefined>);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let smtp: TestSmtpServer;
let fake: FakeTwilio;
const opened: DeliveryService[] = [];

function delivery(env: Partial<Env>, outbox?: DevOutbox) {
  const logs = captureLogs();
  const service = createDelivery(configFor(env), logs.logger, outbox);
  opened.push(service);
  return { service, logs };
}

const twilioEnv = (from: string): Partial<Env> => ({
  TWILIO_ACCOUNT_SID: fake.accountSid,
  TWILIO_AUTH_TOKEN: fake.authToken,
  TWILIO_FROM: from,
  TWILIO_API_URL: fake.url,
});

beforeAll(async () => {
  [smtp, fake] = await Promise.all([startTestSmtpServer(), startFakeTwilio()]);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((d) => d.close()));
});

afterAll(async () => {
  await Promise.all([smtp.close(), fake.close()]);
});

describe('mail over SMTP', () => {
  it('delivers subject, text and html to the SMTP server, From taken from MAIL_FROM', async () => {
    const outbox = new DevOutbox();
    const { service, logs } = delivery({ SMTP_URL: smtp.url, MAIL_FROM: 'Zinnzorg <no-reply@zinnzorg.nl>' }, outbox);
    expect(service.transports.mail).toBe('smtp');

    await service.sendMail({
      to: 'jan.jansen@example.nl',
      subject: 'Uw inlogcode — één keer geldig',
      text: `Beste Jan,\nUw code is ${CODE} — één keer geldig.`,
      html: `<p>Beste Jan,</p><p>Uw code is <strong>${CODE}</strong> — één keer geldig.</p>`,
    });

    const mail = await smtp.waitForMail('jan.jansen@example.nl');
    expect(mail.envelopeTo).toEqual(['jan.jansen@example.nl']);
    expect(mail.from).toBe('Zinnzorg <no-reply@zinnzorg.nl>');
    expect(mail.subject).toBe('Uw inlogcode — één keer geldig');
    expect(mail.raw).toMatch(/Content-Transfer-Encoding: quoted-printable/i);
    expect(mail.text).toBe(`Beste Jan,\nUw code is ${CODE} — één keer geldig.`);
    expect(mail.html).toBe(`<p>Beste Jan,</p><p>Uw code is <strong>${CODE}</strong> — één keer geldig.</p>`);
    // A configured channel never also writes to the outbox.
    expect(outbox.list()).toEqual([]);

    const sent = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'mail sent');
    expect(sent).toMatchObject({ channel: 'mail', recipient: 'j***@example.nl', provider: 'smtp' });
    expect(mail.headers['message-id']).toBe(sent?.providerMessageId);
  });

  it('decodes long non-ASCII bodies (base64) the way nodemailer encodes them', async () => {
    const { service } = delivery({ SMTP_URL: smtp.url });
    const text = `${'ë'.repeat(300)} ${CODE}`;
    await service.sendMail({ to: 'base64@example.nl', subject: 'x', text });
    const mail = await smtp.waitForMail('base64@example.nl');
    expect(mail.raw).toMatch(/Content-Transfer-Encoding: base64/i);
    expect(mail.text).toBe(text);
    expect(mail.html).toBeUndefined();
  });

  it('turns an unreachable SMTP server into a transient DeliveryFailedError', async () => {
    const { service, logs } = delivery({ SMTP_URL: `smtp://127.0.0.1:${await closedPort()}` });
    const error = await service.sendMail({ to: 'jan@example.nl', subject: 's', text: CODE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ channel: 'mail', provider: 'smtp', providerCode: 'ECONNREFUSED', permanent: false });
    expect(logs.text()).toContain('mail delivery failed');
    expect(logs.text()).not.toContain('jan@');
  });

  it('reports a refused mailbox as a permanent failure with the SMTP reply code', async () => {
    const { service } = delivery({ SMTP_URL: smtp.url });
    smtp.rejectNextRecipient(550, 'Mailbox unavailable');
    await expect(service.sendMail({ to: 'gone@example.nl', subject: 's', text: 't' })).rejects.toMatchObject({
      name: 'DeliveryFailedError',
      channel: 'mail',
      status: 550,
      permanent: true,
    });
  });

  it('refuses a recipient list, so a code cannot fan out to a second address', async () => {
    const { service } = delivery({ SMTP_URL: smtp.url });
    await expect(service.sendMail({ to: 'jan@example.nl, eve@evil.test', subject: 's', text: 't' })).rejects.toThrow(TypeError);
    await expect(service.sendMail({ to: 'Jan <jan@example.nl>', subject: 's', text: 't' })).rejects.toThrow(TypeError);
    expect(smtp.messages.some((m) => m.envelopeTo.includes('eve@evil.test'))).toBe(false);
  });
});

describe('SMS and calls through the twilio client', () => {
  it('sends an SMS from the alphanumeric sender ZINNZORG', async () => {
    const { service, logs } = delivery(twilioEnv('ZINNZORG'));
    expect(service.smsAvailable).toBe(true);
    expect(service.transports.sms).toBe('twilio');

    await service.sendSms({ to: PHONE, body: `Uw Zinnzorg-code is ${CODE}` });

    const sms = await fake.waitForSms(PHONE);
    expect(sms).toMatchObject({ from: 'ZINNZORG', body: `Uw Zinnzorg-code is ${CODE}` });
    expect(sms.sid).toMatch(/^SM[0-9a-f]{32}$/);
    const sent = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'sms sent');
    expect(sent).toMatchObject({ channel: 'sms', recipient: '*****78', provider: 'twilio', providerMessageId: sms.sid });
  });

  it('uses a per-message sender instead of TWILIO_FROM', async () => {
    const { service } = delivery(twilioEnv(VOICE_NUMBER));
    await service.sendSms({ to: '+31687654321', body: 'b', from: 'ZINNZORG' });
    expect(await fake.waitForSms('+31687654321')).toMatchObject({ from: 'ZINNZORG' });
  });

  it('places a call whose TwiML reads the code twice, digit by digit, in Dutch', async () => {
    const { service } = delivery(twilioEnv(VOICE_NUMBER));
    expect(service.voiceAvailable).toBe(true);
    const twiml = buildCodeCallTwiml({ intro: 'Uw inlogcode is', code: CODE, outro: 'Tot ziens.', language: 'nl-NL' });

    await service.placeCall({ to: PHONE, twiml });

    const call = await fake.waitForCall(PHONE);
    expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(call.from).toBe(VOICE_NUMBER);
    expect(call.twiml).toBe(twiml);
    expect(call.twiml).toContain('<Say language="nl-NL">Uw inlogcode is</Say>');
    expect(call.twiml.match(/<Say language="nl-NL">4, 8, 2, 9, 1, 3<\/Say>/g)).toHaveLength(2);
  });

  it('will not call from an alphanumeric TWILIO_FROM, and says so without contacting Twilio', async () => {
    const { service } = delivery(twilioEnv('ZINNZORG'));
    expect(service.voiceAvailable).toBe(false);
    const before = fake.calls.length;
    const twiml = buildCodeCallTwiml({ intro: 'Code', code: CODE, language: 'nl-NL' });
    await expect(service.placeCall({ to: PHONE, twiml })).rejects.toBeInstanceOf(DeliveryUnavailableError);
    expect(fake.calls.length).toBe(before);
    // A number given for this call is fine.
    await service.placeCall({ to: '+31611112222', twiml, from: VOICE_NUMBER });
    expect(await fake.waitForCall('+31611112222')).toMatchObject({ from: VOICE_NUMBER });
  });

  it('turns a Twilio error response into a DeliveryFailedError that does not quote the number', async () => {
    const { service, logs } = delivery(twilioEnv('ZINNZORG'));
    fake.failNext(400, 21211, `The 'To' number ${PHONE} is not a valid phone number.`);
    const error = await service.sendSms({ to: PHONE, body: CODE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ channel: 'sms', provider: 'twilio', providerCode: 21211, status: 400, permanent: true });
    expect((error as Error).message).not.toContain(PHONE);
    expect(logs.text()).toContain('"providerCode":21211');

    fake.failNext(503, 20503, 'Service unavailable');
    const call = buildCodeCallTwiml({ intro: 'Code', code: CODE, language: 'en-GB' });
    await expect(service.placeCall({ to: PHONE, twiml: call, from: VOICE_NUMBER })).rejects.toMatchObject({
      channel: 'voice',
      status: 503,
      permanent: false,
    });
  });

  it('reports rejected credentials as a failure (401, code 20003)', async () => {
    const { service } = delivery({ ...twilioEnv('ZINNZORG'), TWILIO_AUTH_TOKEN: 'wrong-token' });
    await expect(service.sendSms({ to: PHONE, body: 'x' })).rejects.toMatchObject({ status: 401, providerCode: 20003 });
  });

  it('sends every request to TWILIO_API_URL (a closed port fails with ECONNREFUSED)', async () => {
    const { service } = delivery({ ...twilioEnv('ZINNZORG'), TWILIO_API_URL: `http://127.0.0.1:${await closedPort()}` });
    await expect(service.sendSms({ to: PHONE, body: 'x' })).rejects.toMatchObject({
      channel: 'sms',
      providerCode: 'ECONNREFUSED',
      permanent: false,
    });
  });

  it('refuses a number that is not E.164 before anything is sent', async () => {
    const { service } = delivery(twilioEnv('ZINNZORG'));
    await expect(service.sendSms({ to: '06 12345678', body: 'x' })).rejects.toThrow(TypeError);
  });
});

describe('dev outbox and missing configuration', () => {
  it('records mail, SMS and calls in the outbox when no provider is configured', async () => {
    const outbox = new DevOutbox();
    const { service, logs } = delivery({ DEV_OUTBOX: 'true' }, outbox);
    expect(service.transports).toEqual({ mail: 'outbox', sms: 'outbox', voice: 'outbox' });
    expect(service.smsAvailable).toBe(true);

    await service.sendMail({ to: 'Jan@Example.nl', subject: 'Code', text: `Code ${CODE}`, html: `<b>${CODE}</b>` });
    await service.sendSms({ to: PHONE, body: `Code ${CODE}` });
    await service.placeCall({ to: PHONE, twiml: buildCodeCallTwiml({ intro: 'Uw code is', code: '12', language: 'nl-NL' }) });

    expect(outbox.latestFor('jan@example.nl')).toMatchObject({ channel: 'mail', subject: 'Code', text: `Code ${CODE}`, html: `<b>${CODE}</b>` });
    expect(outbox.latestFor(PHONE, 'sms')).toMatchObject({ text: `Code ${CODE}` });
    expect(outbox.latestFor(PHONE)).toMatchObject({ channel: 'voice', text: 'Uw code is 1, 2 1, 2' });
    expect(outbox.list().map((e) => e.channel)).toEqual(['mail', 'sms', 'voice']);
    expect(logs.text()).toContain('recorded in dev outbox');
    expect(logs.text()).not.toContain(CODE);
  });

  it('throws DeliveryUnavailableError when neither a provider nor the outbox is enabled', async () => {
    const outbox = new DevOutbox();
    const { service } = delivery({ DEV_OUTBOX: 'false' }, outbox);
    expect(service.smsAvailable).toBe(false);
    expect(service.voiceAvailable).toBe(false);
    expect(service.mailAvailable).toBe(false);
    await expect(service.sendMail({ to: 'jan@example.nl', subject: 's', text: 't' })).rejects.toMatchObject({
      name: 'DeliveryUnavailableError',
      channel: 'mail',
    });
    await expect(service.sendSms({ to: PHONE, body: 'x' })).rejects.toBeInstanceOf(DeliveryUnavailableError);
    await expect(service.placeCall({ to: PHONE, twiml: '<Response/>' })).rejects.toBeInstanceOf(DeliveryUnavailableError);
    expect(outbox.size).toBe(0);
  });

  it('without an outbox instance, an enabled DEV_OUTBOX still means unavailable', async () => {
    const { service } = delivery({ DEV_OUTBOX: 'true' });
    expect(service.smsAvailable).toBe(false);
    await expect(service.sendSms({ to: PHONE, body: 'x' })).rejects.toBeInstanceOf(DeliveryUnavailableError);
  });
});

describe('logging', () => {
  it('logs channel, masked recipient and provider id, but no number, address, content or secret', async () => {
    const { service, logs } = delivery({ SMTP_URL: smtp.url, ...twilioEnv(VOICE_NUMBER) });
    await service.sendMail({ to: 'pietje.puk@example.nl', subject: `Code ${CODE}`, text: `Uw code: ${CODE}`, html: `<i>${CODE}</i>` });
    await service.sendSms({ to: PHONE, body: `Uw code: ${CODE}` });
    await service.placeCall({ to: PHONE, twiml: buildCodeCallTwiml({ intro: 'Uw code', code: CODE, language: 'nl-NL' }) });
    fake.failNext(400, 21211, `The 'To' number ${PHONE} is not a valid phone number.`);
    await service.sendSms({ to: PHONE, body: `Uw code: ${CODE}` }).catch(() => undefined);
    await smtp.waitForMail('pietje.puk@example.nl');

    const text = logs.text();
    expect(logs.lines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [CODE, '4, 8, 2', PHONE, PHONE.slice(1), '612345678', 'pietje', 'Uw code', fake.authToken, smtp.url]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('*****78');
    expect(text).toContain('p***@example.nl');
    expect(text).toMatch(/"providerMessageId":"SM[0-9a-f]{32}"/);
    expect(text).toMatch(/"providerMessageId":"CA[0-9a-f]{32}"/);
  });
});
