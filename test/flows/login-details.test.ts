// The smaller findings of issue 6 about the hosted pages, through the real server: every method
// offered under "use another method" works (and nothing else is offered), messages follow the
// language the patient chose on the page, and cancelling the account page's login says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRecoveryCodes } from '../../src/factors/recovery/recovery-factor.ts';
import { ACR } from '../../src/oidc/assurance.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import type { RelyingParty } from '../support/relying-party.ts';
import { extractCode, loginUntilSecondFactor, startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';

describe('hosted login details (issue 6)', () => {
  let world: FactorWorld;
  let zinn: RelyingParty;

  beforeAll(async () => {
    world = await startFactorWorld();
    zinn = await world.portal({ name: 'ZINN', mfa: 'required', mfaMethods: ['sms'] });
  });
  afterAll(() => world?.close());

  /** The methods offered under "use another method" on `page`. */
  function offered(page: Page): string[] {
    return [...page.html.matchAll(/name="method" value="([^"]+)"/g)].map((m) => m[1]!);
  }

  /** A hand-made post of `method` to the page's method choice (`/choose` or `/enrol`). */
  async function chooseByHand(agent: UserAgent, page: Page, path: '/choose' | '/enrol', method: string): Promise<Page> {
    const form = findForm(page, '/abort');
    return agent.request(form.action.replace(/\/abort$/, path), { method: 'POST', body: new URLSearchParams({ _csrf: form.fields._csrf!, method }).toString() });
  }

  it('offers on the recovery-code page only methods the portal accepts, and each one works', async () => {
    // SMS set up (so a phone call could reach the same number), at a portal that takes SMS only.
    const account = await userWithFactors(world.server, { username: 'keuze-herstel', phoneE164: '+31630000001' }, ['sms']);
    await generateRecoveryCodes(world.server.services, account);
    const agent = new UserAgent();
    const { page } = await loginUntilSecondFactor(zinn, agent, account.username);
    expect(offered(page)).toEqual(['recovery']);
    const recovery = await agent.submit(page, '/choose', { method: 'recovery' });
    expect(recovery.html).toContain('/step/recovery/verify');
    expect(offered(recovery)).toEqual(['sms']);
    // "Telefoongesprek" is not offered, and a hand-made choice of it is refused.
    const call = await chooseByHand(agent, recovery, '/choose', 'voice');
    expect(call.status).toBe(400);
    expect(world.twilio.calls).toHaveLength(0);
    // Every offered method works.
    const back = await agent.submit(recovery, '/choose', { method: 'sms' });
    expect(back.status).toBe(200);
    expect(back.html).toContain('/step/sms/');
  });

  it('offers on the SMS set-up page only methods that can reach the demanded level, and each one works', async () => {
    // E-mail is listed by the portal but cannot reach the level it demands.
    const strict = await world.portal({ name: 'Streng', mfa: 'required', mfaMethods: ['sms', 'email', 'totp'], minAcr: ACR.substantial });
    await world.server.addUser({ username: 'keuze-instellen' });
    const agent = new UserAgent();
    const { page: reauth } = await loginUntilSecondFactor(strict, agent, 'keuze-instellen');
    const chooser = await agent.submit(reauth, '/step/password/verify', { password: TEST_PASSWORD });
    expect(chooser.html).toContain('value="sms"');
    expect(chooser.html).not.toContain('value="email"');
    const sms = await agent.submit(chooser, '/enrol', { method: 'sms' });
    expect(sms.html).toContain('name="phone"');
    expect(offered(sms)).toEqual(['totp']);
    const email = await chooseByHand(agent, sms, '/enrol', 'email');
    expect(email.status).toBe(400);
    const totp = await agent.submit(sms, '/enrol', { method: 'totp' });
    expect(totp.html).toContain('id="totp-key"');
  });

  it('sends the SMS in the language the patient chose on the page, else in the account language', async () => {
    await userWithFactors(world.server, { username: 'taal-engels', phoneE164: '+31630000002', locale: 'nl' }, ['sms']);
    const request = await zinn.authorize();
    const agent = new UserAgent();
    const login = await agent.open(request.url);
    // The patient switches the page to English before signing in.
    const english = await agent.open(`${login.url}?lang=en`);
    expect(english.html).toContain('<html lang="en">');
    await agent.submit(english, '/step/password/verify', { login: 'taal-engels', password: TEST_PASSWORD });
    const sms = await world.twilio.waitForSms('+31630000002');
    expect(sms.body).toBe(`Your sign-in code for ZINN is ${extractCode(sms.body)}. This code is valid for 10 minutes. Do not share this code with anyone.`);

    // A portal's ui_locales hint is not the patient's choice: the account's Dutch stays.
    await userWithFactors(world.server, { username: 'taal-hint', phoneE164: '+31630000003', locale: 'nl' }, ['sms']);
    await loginUntilSecondFactor(zinn, new UserAgent(), 'taal-hint', { params: { ui_locales: 'en' } });
    expect((await world.twilio.waitForSms('+31630000003')).body).toMatch(/^Uw inlogcode voor ZINN is \d{6}\./);
  });

  it('lets the patient cancel the account page\'s login and says what happened, with a way back in', async () => {
    await world.server.addUser({ username: 'annuleer' });
    const agent = new UserAgent();
    const login = await agent.open(`${world.server.url}/account`);
    const cancel = findForm(login, '/abort');
    expect(login.html).toMatch(/<form class="cancel"[\s\S]*?<button[^>]*>Annuleren<\/button>/);
    expect(textOf(login)).not.toContain('terug naar het portaal');
    const page = await agent.follow(await agent.request(cancel.action, { method: 'POST', body: new URLSearchParams(cancel.fields).toString() }));
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toBe('/account/callback');
    expect(textOf(page)).toContain('U heeft het inloggen afgebroken. U bent niet ingelogd en er is niets gewijzigd.');
    expect(textOf(page)).not.toContain('Inloggen is niet gelukt');
    expect(page.html).toContain('href="/account"');
    // The link leads to the login again.
    const again = await agent.open(`${world.server.url}/account`);
    expect(again.html).toContain('name="password"');
  });
});
