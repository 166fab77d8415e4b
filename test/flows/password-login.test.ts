// The hosted password page as a patient meets it, and everything a careless or hostile request
// can do to it: each answer is a clear 4xx page, never a 500, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent, findForm, textOf, type Page } from '../support/user-agent.ts';
import { relyingParty, passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';

describe('hosted password login', () => {
  let server: TestServer;
  let rp: RelyingParty;

  beforeAll(async () => {
    server = await startTestServer();
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], name: 'ZINN cliëntportaal' });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret);
    await server.addUser({ username: 'pietersen' });
    const disabled = await server.addUser({ username: 'geblokkeerd' });
    await server.services.accounts.setStatus(disabled, 'disabled');
  });

  afterAll(() => server?.close());

  async function loginPage(agent = new UserAgent(), params: Record<string, string> = {}): Promise<Page> {
    return agent.open((await rp.authorize(params)).url, REDIRECT_URI);
  }

  /** One login attempt in one browser, as a patient would type it. */
  async function attempt(login: string, password: string): Promise<Page> {
    const agent = new UserAgent();
    return agent.submit(await loginPage(agent), '/step/password/verify', { login, password });
  }

  it('is Dutch by default, names the portal, and is never cached', async () => {
    const page = await loginPage();
    expect(page.html).toContain('<html lang="nl">');
    expect(textOf(page)).toContain('Inloggen bij ZINN cliëntportaal');
    expect(page.html).toContain('autocomplete="current-password"');
    const raw = await fetch(page.url);
    expect(raw.headers.get('cache-control')).toBe('no-store');
    expect(raw.headers.get('content-security-policy')).toMatch(/script-src 'self' 'nonce-/);
  });

  it('switches to English and remembers the choice', async () => {
    const agent = new UserAgent();
    const page = await loginPage(agent);
    const english = await agent.open(`${page.url}?lang=en`);
    expect(english.html).toContain('<html lang="en">');
    expect(textOf(english)).toContain('Username or e-mail address');
    const again = await loginPage(agent);
    expect(textOf(again)).toContain('Username or e-mail address');
  });

  it('follows the portal ui_locales hint when the patient chose nothing', async () => {
    const page = await loginPage(new UserAgent(), { ui_locales: 'en-GB' });
    expect(page.html).toContain('<html lang="en">');
  });

  it('gives unknown users and wrong passwords the same answer', async () => {
    const wrong = await attempt('pietersen', 'Verkeerd-wachtwoord-1');
    const unknown = await attempt('niemand', 'Verkeerd-wachtwoord-1');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = 'De gebruikersnaam of het wachtwoord is onjuist.';
    expect(textOf(wrong)).toContain(message);
    expect(textOf(unknown)).toContain(message);
    // Same page apart from per-request tokens and the echoed login name.
    const strip = (p: Page) => textOf(p).replace(/pietersen|niemand/g, '');
    expect(strip(wrong)).toBe(strip(unknown));
    // The form keeps the typed login name and links the error to its field.
    expect(wrong.html).toContain('value="pietersen"');
    expect(wrong.html).toContain('aria-invalid="true"');
    expect(wrong.html).toMatch(/class="error-summary"[^>]*autofocus/);
  });

  it('takes similar time for unknown users and wrong passwords', async () => {
    const time = async (login: string) => {
      const agent = new UserAgent();
      const page = await loginPage(agent);
      const started = performance.now();
      await agent.submit(page, '/step/password/verify', { login, password: 'Verkeerd-wachtwoord-1' });
      return performance.now() - started;
    };
    await time('warm-up');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      known.push(await time('pietersen'));
      unknown.push(await time(`onbekend${i}`));
    }
    // Both pay for one argon2id verification; an early return would be ten times faster. The
    // fastest run of each is compared, as load on the machine only ever adds time.
    expect(Math.min(...unknown)).toBeGreaterThan(Math.min(...known) * 0.4);
  });

  it('asks for the missing fields in the patient language', async () => {
    const page = await attempt('', '');
    expect(page.status).toBe(400);
    expect(textOf(page)).toContain('Vul uw gebruikersnaam of e-mailadres in.');
    expect(textOf(page)).toContain('Vul uw wachtwoord in.');
  });

  it('refuses a disabled account after a correct password only', async () => {
    const wrong = await attempt('geblokkeerd', 'Verkeerd-wachtwoord-1');
    expect(textOf(wrong)).toContain('De gebruikersnaam of het wachtwoord is onjuist.');
    const right = await attempt('geblokkeerd', TEST_PASSWORD);
    expect(right.status).toBe(403);
    expect(textOf(right)).toContain('Uw account is geblokkeerd');
  });

  // Locks (which look exactly like a wrong password) are tested in password-lockout.test.ts.

  it('refuses a post without the flow CSRF token', async () => {
    const agent = new UserAgent();
    const page = await loginPage(agent);
    const form = findForm(page, '/step/password/verify');
    const response = await agent.request(form.action, { method: 'POST', body: new URLSearchParams({ login: 'pietersen', password: TEST_PASSWORD, _csrf: 'forged' }).toString() });
    expect(response.status).toBe(403);
    expect(textOf(response)).toContain('Dit formulier is verlopen');
  });

  it('answers malformed, oversized and wrongly typed bodies with a 4xx page', async () => {
    const agent = new UserAgent();
    const page = await loginPage(agent);
    const { action } = findForm(page, '/step/password/verify');
    const huge = await agent.request(action, { method: 'POST', body: `login=${'a'.repeat(40_000)}` });
    expect(huge.status).toBe(413);
    const json = await agent.request(action, { method: 'POST', body: '{"login":"x"}', contentType: 'application/json' });
    expect(json.status).toBe(415);
    const broken = await agent.request(action, { method: 'POST', body: 'login=%E0%A4%A&password=%' });
    expect([400, 403]).toContain(broken.status);
    expect(textOf(huge)).toContain('te groot');
  });

  it('shows a friendly page for unknown or expired interactions', async () => {
    const page = await new UserAgent().request(`${server.url}/interaction/doesnotexist`);
    expect(page.status).toBe(400);
    expect(textOf(page)).toContain('Uw inlogsessie is verlopen');
    const post = await new UserAgent().request(`${server.url}/interaction/doesnotexist/step/password/verify`, { method: 'POST', body: 'login=a&password=b' });
    expect(post.status).toBe(400);
  });

  it('links an expired login page back to its portal', async () => {
    const agent = new UserAgent();
    const page = await loginPage(agent);
    const uid = new URL(page.url).pathname.split('/')[2]!;
    // Through oidc-provider's model: the store keeps it under a hashed id.
    await (await server.app.provider.Interaction.find(uid))!.destroy();
    const expired = await agent.submit(page, '/step/password/verify', { login: 'pietersen', password: TEST_PASSWORD });
    expect(expired.status).toBe(400);
    expect(textOf(expired)).toContain('Uw inlogsessie is verlopen');
    expect(expired.html).toContain('href="http://127.0.0.1:9"');
    expect(textOf(expired)).toContain('Terug naar ZINN cliëntportaal');
  });

  it('rejects tampered interaction cookies', async () => {
    const agent = new UserAgent();
    const page = await loginPage(agent);
    agent.setCookie('_interaction.sig', 'tampered', new URL(page.url).pathname);
    const again = await agent.request(page.url);
    expect(again.status).toBe(400);
  });

  it('does not let the form post to a step the flow is not on', async () => {
    const agent = new UserAgent();
    const page = await loginPage(agent);
    const { action, fields } = findForm(page, '/step/password/verify');
    const foreign = await agent.request(action.replace('/step/password/verify', '/step/unknown/verify'), { method: 'POST', body: new URLSearchParams(fields).toString() });
    expect(foreign.status).toBe(404);
  });

  it('stores nothing and logs no secret along the way', async () => {
    // Not pietersen: the tests above made enough wrong guesses to lock that account.
    await server.addUser({ username: 'schoon' });
    await passwordLogin(rp, new UserAgent(), 'schoon', TEST_PASSWORD);
    expect(server.logs()).not.toContain(TEST_PASSWORD);
    const audit = await server.services.store.audit.list({ type: 'login.completed' });
    expect(audit.length).toBeGreaterThan(0);
    expect(JSON.stringify(audit)).not.toContain(TEST_PASSWORD);
  });
});
