// The /admin console in real Chromium: an operator registers a portal with its policy and brand
// and a patient then logs into that portal (openid-client as the portal, the login wearing the
// new brand and asking the app code the policy demands); a practice admin resets a patient's
// second factors and the patient's next login sets one up; an auditor filters the log and
// downloads the CSV; axe-core finds nothing on each console page in Dutch and English.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { TEST_PASSWORD } from '../support/server.ts';
import { relyingParty } from '../support/relying-party.ts';
import { giveTotp, loginUntilSecondFactor, startFactorWorld, AMSTERDAM_1150, type FactorWorld } from '../support/factor-login.ts';
import { enrolWithApp, STEP_MS, totpCode } from '../support/totp.ts';
import { ADMIN_TOTP_KEY, adminAccount, CLI } from '../support/admin-console.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';
import { arriveAtPortal, runAxe, startPortal, useBrowser, type BrowserPage, type Page, type StubPortal } from '../support/browser.ts';

const PATIENT_KEY = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';

describe('the /admin console in Chromium', { timeout: 90_000 }, () => {
  const chromium = useBrowser();
  let world: FactorWorld;
  let stub: StubPortal;

  beforeAll(async () => {
    stub = await startPortal();
    world = await startFactorWorld({ now: AMSTERDAM_1150 + 1000 });
    await world.server.app.operations.organisations.add(CLI, { id: 'praktijk-oost', name: 'Praktijk Oost' });
  });
  afterAll(async () => {
    await world?.close();
    await stub?.close();
  });

  function expectClean(tab: BrowserPage): void {
    expect(tab.cspViolations()).toEqual([]);
    expect(tab.console.filter((m) => m.startsWith('pageerror'))).toEqual([]);
  }

  /** Password and the app's code on the login page the browser is on (a fresh step each time). */
  async function passwordAndApp(page: Page, username: string, key: string, brand: string): Promise<void> {
    await expect.poll(() => page.title()).toBe(`Inloggen – ${brand}`);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill(username);
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Inloggen', exact: true }).click();
    await expect.poll(() => page.title()).toBe(`Code uit uw authenticator-app – ${brand}`);
    world.clock.advance(STEP_MS);
    await page.getByLabel('Code van 6 cijfers', { exact: true }).fill(await totpCode(key, world.clock.now()));
  }

  async function signIn(page: Page, username: string): Promise<void> {
    // The admin's app was set up before this login (the console takes no factor set up in it).
    world.clock.advance(1000);
    await page.goto(`${world.server.url}/admin`);
    await passwordAndApp(page, username, ADMIN_TOTP_KEY, 'Poortwachter beheer');
    await Promise.all([page.waitForURL(`${world.server.url}/admin`), page.getByRole('button', { name: 'Doorgaan', exact: true }).click()]);
    await expect.poll(() => page.title()).toBe('Beheer – Poortwachter');
  }

  /** axe on the page in Dutch, then the same page in English (the language link), then back. */
  async function axeInBothLanguages(page: Page, englishTitle: string): Promise<void> {
    // Some titles read the same in both languages: the page's lang attribute tells them apart.
    const lang = () => page.locator('html').getAttribute('lang');
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: 'English', exact: true }).click();
    await expect.poll(lang).toBe('en');
    await expect.poll(() => page.title()).toBe(englishTitle);
    expect(await runAxe(page)).toEqual([]);
    await page.getByRole('link', { name: 'Nederlands', exact: true }).click();
    await expect.poll(lang).toBe('nl');
  }

  it('lets an operator register a portal with branding and policy, which a patient then signs in to', async () => {
    await adminAccount(world.server, 'chromium-operator', 'operator');
    const tab = await chromium.newPage();
    const { page } = tab;
    await signIn(page, 'chromium-operator');
    await axeInBothLanguages(page, 'Administration – Poortwachter');

    await page.getByRole('link', { name: 'Portalen', exact: true }).first().click();
    await expect.poll(() => page.title()).toBe('Portalen – Poortwachter');
    await axeInBothLanguages(page, 'Portals – Poortwachter');
    await page.getByRole('link', { name: 'Portaal registreren', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Portaal registreren – Poortwachter');
    await axeInBothLanguages(page, 'Register a portal – Poortwachter');

    // A mistake first: the error summary takes focus and links to the field; nothing is registered.
    await page.getByLabel('Naam van het portaal', { exact: true }).fill('Mijn Therapie Dossier');
    await page.getByLabel('Redirect-URI\'s', { exact: true }).fill('geen adres');
    await page.getByRole('button', { name: 'Portaal registreren', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('Controleer ‘Redirect-URI\'s’');
    await expect.poll(() => page.evaluate(() => document.activeElement?.className)).toContain('error-summary');
    expect(await runAxe(page)).toEqual([]);

    await page.getByLabel('Client-ID', { exact: true }).fill('mtd-portaal');
    await page.getByLabel('Redirect-URI\'s', { exact: true }).fill(stub.redirectUri);
    await page.getByLabel('Verplicht', { exact: true }).check();
    for (const method of ['Sms', 'Telefoongesprek', 'E-mail', 'Passkey']) await page.getByRole('group', { name: 'Toegestane tweede stappen' }).getByLabel(method, { exact: true }).uncheck();
    await page.getByLabel('Minimaal betrouwbaarheidsniveau', { exact: true }).selectOption('substantial');
    await page.getByLabel('Apparaat onthouden toestaan', { exact: true }).uncheck();
    await page.getByLabel('Huiskleur', { exact: true }).fill('#0b5394');
    await page.getByLabel('Hulptekst (Nederlands)', { exact: true }).fill('Vragen? Bel de praktijk.');
    await page.getByRole('button', { name: 'Portaal registreren', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Portaal geregistreerd – Poortwachter');
    const secret = await page.locator('#client-secret').innerText();
    expect(await runAxe(page)).toEqual([]);
    expectClean(tab);

    // The portal works: a patient with the app signs in at it, on its branded pages.
    const patient = await world.server.addUser({ username: 'mtd-patient', emailVerified: true });
    await giveTotp(world.server, patient, PATIENT_KEY);
    const rp = await relyingParty(world.server.url, 'mtd-portaal', secret, stub.redirectUri);
    const patientTab = await chromium.newPage();
    const request = await rp.authorize();
    await patientTab.page.goto(request.url);
    await passwordAndApp(patientTab.page, 'mtd-patient', PATIENT_KEY, 'Mijn Therapie Dossier');
    await expect.poll(() => patientTab.page.getByText('Vragen? Bel de praktijk.').isVisible()).toBe(true);
    const callback = await arriveAtPortal(patientTab.page, () => patientTab.page.getByRole('button', { name: 'Doorgaan', exact: true }).click(), stub.redirectUri);
    const tokens = await rp.callback(callback, request);
    expect(tokens.claims()!.acr).toBe('urn:poortwachter:acr:substantial');
    expectClean(patientTab);
  });

  it('lets a practice admin reset a patient\'s second factors; the patient sets one up at the next login', async () => {
    await adminAccount(world.server, 'chromium-praktijk', 'practice', ['praktijk-oost']);
    const { account } = await world.server.app.operations.accounts.create(CLI, { username: 'oost-patient', email: 'oost-patient@example.nl', organisations: ['praktijk-oost'] });
    const patient = (await world.server.services.accounts.findById(account.id))!;
    await world.server.services.passwords.set(patient, TEST_PASSWORD);
    await giveTotp(world.server, patient, PATIENT_KEY);

    const tab = await chromium.newPage();
    const { page } = tab;
    await signIn(page, 'chromium-praktijk');
    await page.getByRole('link', { name: 'Accounts', exact: true }).first().click();
    await expect.poll(() => page.title()).toBe('Accounts – Poortwachter');
    await axeInBothLanguages(page, 'Accounts – Poortwachter');
    await page.getByLabel('Zoek op gebruikersnaam, e-mailadres of naam', { exact: true }).fill('oost');
    await page.getByRole('button', { name: 'Zoeken', exact: true }).click();
    await page.getByRole('link', { name: 'oost-patient', exact: true }).click();
    await expect.poll(() => page.title()).toBe('Account oost-patient – Poortwachter');
    await axeInBothLanguages(page, 'Account oost-patient – Poortwachter');
    await page.getByRole('button', { name: 'Tweestapsverificatie resetten', exact: true }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('bij de volgende inlog stelt de patiënt een nieuwe in');
    expect(await runAxe(page)).toEqual([]);
    expectClean(tab);
    await world.smtp.waitForMail('oost-patient@example.nl');

    // The old app no longer counts; the patient's next login at a portal (that does not even
    // require a second step) sets up a new app before the portal gets its tokens.
    const portal = await world.portal({ name: 'Oost portaal', mfaMethods: ['totp'] });
    const { page: next } = await loginUntilSecondFactor(portal, new UserAgent(), 'oost-patient');
    expect(textOf(next)).toContain('Voer nogmaals uw wachtwoord in om tweestapsverificatie in te stellen');
    world.clock.advance(STEP_MS);
    const enrolment = await enrolWithApp(portal, new UserAgent(), world.clock, 'oost-patient');
    expect(enrolment.key).not.toBe(PATIENT_KEY);
    expect(enrolment.tokens.claims()!.acr).toBe('urn:poortwachter:acr:substantial');
    const after = (await world.server.services.accounts.findById(account.id))!;
    expect(after.requiredActions).not.toContain('enrol-second-factor');
  });

  it('lets an auditor filter the log and download it as CSV', async () => {
    await adminAccount(world.server, 'chromium-auditor', 'auditor');
    await world.server.app.operations.portals.register(CLI, { client_name: 'Audit portaal', client_id: 'audit-portaal', redirect_uris: [stub.redirectUri] });
    const tab = await chromium.newPage({ acceptDownloads: true });
    const { page } = tab;
    await signIn(page, 'chromium-auditor');
    await page.getByRole('link', { name: 'Auditlog', exact: true }).first().click();
    await expect.poll(() => page.title()).toBe('Auditlog – Poortwachter');
    await axeInBothLanguages(page, 'Audit log – Poortwachter');
    expect(await page.locator('form[method="post"]').count()).toBe(1);
    await page.getByLabel('Soort gebeurtenis (bijvoorbeeld admin.user.mfa_reset)', { exact: true }).fill('admin.client.added');
    await page.getByLabel('Portaal (client-ID)', { exact: true }).fill('audit-portaal');
    await page.getByRole('button', { name: 'Filteren', exact: true }).click();
    await expect.poll(() => page.locator('table.audit tbody tr').count()).toBe(1);
    await expect.poll(() => page.locator('table.audit').innerText()).toContain('audit-portaal');
    expect(await runAxe(page)).toEqual([]);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Exporteren als CSV (met dit filter)' }).click()]);
    expect(download.suggestedFilename()).toBe('audit.csv');
    const rows = (await readFile((await download.path())!, 'utf8')).trim().split(/\r?\n/);
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain('admin.client.added');
    expect(rows[1]).toContain('audit-portaal');

    // What the role may not open is a clear page of its own, in both languages.
    const refused = await page.goto(`${world.server.url}/admin/accounts`);
    expect(refused!.status()).toBe(403);
    expect(await page.locator('h1').innerText()).toBe('Dit kan niet');
    await axeInBothLanguages(page, 'This is not possible – Poortwachter');
    expectClean(tab);
  });
});
