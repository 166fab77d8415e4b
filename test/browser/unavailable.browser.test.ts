// What a patient sees in Chromium when the disk fills up under the running server (a file-size
// limit on the server process): a Dutch "tijdelijk niet beschikbaar" page that passes axe-core,
// with focus on its heading; once the disk is back, sending the form again signs the patient in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServerProcess, type ServerProcess } from '../support/server-process.ts';
import { seedDataDir } from '../support/seed.ts';
import { relyingParty, type RelyingParty } from '../support/relying-party.ts';
import { arriveAtPortal, describeFocus, runAxe, startPortal, useBrowser, type StubPortal } from '../support/browser.ts';
import { TEST_PASSWORD } from '../support/server.ts';

const havePrlimit = process.platform === 'linux' && spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
if (!havePrlimit) process.stderr.write('Browser test of the unavailable page skipped: prlimit (util-linux) is not available\n');

describe.skipIf(!havePrlimit)('the unavailable page in Chromium', { timeout: 120_000 }, () => {
  const chromium = useBrowser();
  let dataDir: string;
  let server: ServerProcess;
  let portal: StubPortal;
  let rp: RelyingParty;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-unavailable-'));
    portal = await startPortal();
    const seeded = await seedDataDir(dataDir, ['jansen'], portal.redirectUri);
    server = await startServerProcess({ env: { DATA_DIR: dataDir } });
    rp = await relyingParty(server.url, seeded.clientId, seeded.clientSecret, portal.redirectUri);
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await portal?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says so clearly and accessibly, and the same form works once the disk is back', async () => {
    const { page } = await chromium.newPage();
    await page.goto((await rp.authorize()).url);
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill('jansen');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);

    execFileSync('prlimit', ['--pid', String(server.pid), '--fsize=4096:']);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Inloggen', exact: true }).click()]);
    expect(response.status()).toBe(503);
    expect(response.headers()['retry-after']).toBe('30');
    await expect.poll(() => page.locator('h1').innerText()).toBe('Tijdelijk niet beschikbaar');
    expect(await page.title()).toContain('Tijdelijk niet beschikbaar');
    await expect.poll(() => describeFocus(page)).toContain('h1');
    expect(await runAxe(page)).toEqual([]);

    execFileSync('prlimit', ['--pid', String(server.pid), '--fsize=unlimited:']);
    await page.goBack();
    await page.getByLabel('Gebruikersnaam of e-mailadres', { exact: true }).fill('jansen');
    await page.getByLabel('Wachtwoord', { exact: true }).fill(TEST_PASSWORD);
    const callback = await arriveAtPortal(page, () => page.getByRole('button', { name: 'Inloggen', exact: true }).click(), portal.redirectUri);
    expect(new URL(callback).searchParams.get('code')).toBeTruthy();
  });
});
