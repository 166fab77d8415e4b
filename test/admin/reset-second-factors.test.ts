// A practice resets a patient's second factors (admin API, as the console would through the same
// operation): the patient's next login, through openid-client as the portal, sets up a new second
// factor before the portal gets the login; before the reset the same login asked for the app code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFactorWorld, userWithFactors, type FactorWorld } from '../support/factor-login.ts';
import { REDIRECT_URI } from '../support/relying-party.ts';
import { UserAgent } from '../support/user-agent.ts';
import { TEST_PASSWORD } from '../support/server.ts';
import type { Actor } from '../../src/admin/operations/index.ts';

const practice: Actor = { kind: 'admin', accountId: 'praktijk-admin', username: 'assistent', role: 'practice', organisations: ['praktijk-noord'] };

describe('reset 2FA, then the patient enrols at the next login', () => {
  let world: FactorWorld;

  beforeAll(async () => {
    world = await startFactorWorld();
  });
  afterAll(() => world?.close());

  async function loginPage(rp: Awaited<ReturnType<FactorWorld['portal']>>) {
    const request = await rp.authorize();
    const agent = new UserAgent();
    const page = await agent.open(request.url, REDIRECT_URI);
    return agent.submit(page, '/step/password/verify', { login: 'noor', password: TEST_PASSWORD }, REDIRECT_URI);
  }

  it('the login after the reset sets up a second factor; the patient got a notice', async () => {
    const { operations } = world.server.app;
    const cli: Actor = { kind: 'cli', operator: 'tester' };
    await operations.organisations.add(cli, { id: 'praktijk-noord', name: 'Praktijk Noord' });
    const account = await userWithFactors(world.server, { username: 'noor', email: 'noor@example.nl' }, ['totp']);
    await operations.accounts.update(cli, account.id, { organisations: ['praktijk-noord'] });
    const rp = await world.portal({ mfa: 'optional' });

    const before = await loginPage(rp);
    expect(before.url.startsWith(REDIRECT_URI)).toBe(false);
    expect(before.html).toContain('/step/totp/');

    const reset = await operations.accountSecurity.resetSecondFactors(practice, account.id);
    expect(reset.removed).toEqual(['totp']);
    const notice = await world.smtp.waitForMail('noor@example.nl');
    expect(notice.subject).toBe('Uw tweestapsverificatie is opnieuw ingesteld');

    // Without a second factor and at a portal where MFA is optional, only the stored
    // enrol-second-factor action keeps the login from going straight back to the portal.
    const after = await loginPage(rp);
    expect(after.url.startsWith(REDIRECT_URI), after.html.slice(0, 500)).toBe(false);
    expect(after.html).toContain('tweestapsverificatie in te stellen');
  });
});
