// `client add|update|show` with a portal's brand, as an operator runs it (a separate process
// against a temporary DATA_DIR): a colour below WCAG AA, an oversized logo, a file that is not an
// image and an SVG with a script are refused with one sentence and exit 1, and nothing is stored;
// a good logo is stored content-addressed and `client show` lists the brand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.ts';
import { png, SVG_WITH_SCRIPT } from '../support/logo-bytes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'src/admin/cli.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('poortwachter client: brand', { timeout: 120_000 }, () => {
  let dataDir: string;
  let clientId = '';
  const files: Record<string, string> = {};
  const bytes = {
    good: png(160, 48),
    huge: Buffer.concat([png(64, 64), Buffer.alloc(210 * 1024)]),
    // HTML with a PNG's name: judged by its contents.
    fake: Buffer.from('<html><body><script>alert(1)</script></body></html>'),
    svg: SVG_WITH_SCRIPT,
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-brand-cli-'));
    for (const [name, content] of Object.entries(bytes)) {
      files[name] = path.join(dataDir, name === 'svg' ? 'logo.svg' : `${name}.png`);
      await writeFile(files[name], content);
    }
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  function cli(args: string[]): Promise<Run> {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATA_DIR: dataDir };
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  async function stored() {
    const store = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'poortwachter.sqlite') });
    try {
      const logos: Record<string, boolean> = {};
      for (const [name, content] of Object.entries(bytes)) logos[name] = (await store.settings.get(`brand-logo:${createHash('sha256').update(content).digest('hex')}`)) !== undefined;
      return { clients: await store.clients.list(), logos };
    } finally {
      await store.close();
    }
  }

  it('refuses a colour below WCAG AA contrast against white: exit 1, one sentence, no portal', async () => {
    const run = await cli(['client', 'add', '--name', 'Geel portaal', '--redirect-uri', 'https://geel.example/cb', '--color', '#ffcc00']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^poortwachter: --color: #ffcc00 has a contrast of 1\.\d\d:1 against white; WCAG AA needs at least 4\.5:1/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect((await stored()).clients.filter((c) => c.metadata.client_name === 'Geel portaal')).toEqual([]);
  });

  it('registers a portal with its brand and shows it', async () => {
    const add = await cli([
      'client', 'add', '--name', 'ZINN cliëntportaal', '--redirect-uri', 'https://portaal.zinn.example/cb', '--json',
      '--color', '#00477F', '--support-text', 'Heeft u hulp nodig? Neem contact op met uw behandelaar.', '--support-url', 'tel:+31201234567',
      '--privacy-url', 'https://zinn.example/privacy', '--totp-issuer', 'ZINN', '--code-name', 'verification-code',
    ]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    clientId = (JSON.parse(add.stdout) as { client_id: string }).client_id;
    const show = await cli(['client', 'show', clientId]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('colour:              #00477f');
    expect(show.stdout).toContain('authenticator name:  ZINN');
    expect(show.stdout).toContain('word for a code:     verification-code');
    expect(show.stdout).toContain('support text:        nl: Heeft u hulp nodig?');
    expect(show.stdout).toContain('privacy link:        https://zinn.example/privacy');
    expect(show.stdout).toContain('recovery codes after set-up:      on');
  });

  it('refuses an oversized logo, a non-image with a .png name and an SVG with a script; nothing is stored', async () => {
    const [huge, fake, svg] = await Promise.all([
      cli(['client', 'update', clientId, '--logo', files.huge!]),
      cli(['client', 'update', clientId, '--logo', files.fake!]),
      cli(['client', 'update', clientId, '--logo', files.svg!, '--json']),
    ]);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toBe('poortwachter: --logo: the logo is larger than 200 kB; nothing was changed\n');
    expect(fake.code).toBe(1);
    expect(fake.stderr).toContain('the logo is not a PNG, JPEG or WebP image (judged by its contents, not its name)');
    expect(svg.code).toBe(1);
    expect(JSON.parse(svg.stderr).error).toMatch(/^--logo: SVG logos are refused \(an SVG can carry scripts/);
    const after = await stored();
    expect(after.logos).toEqual({ good: false, huge: false, fake: false, svg: false });
    expect(after.clients.find((c) => c.clientId === clientId)?.metadata.brand_logo).toBeUndefined();
  });

  it('stores a good logo under its hash, replaces and removes it', async () => {
    const update = await cli(['client', 'update', clientId, '--logo', files.good!]);
    expect(update.code).toBe(0);
    const sha = createHash('sha256').update(bytes.good).digest('hex');
    expect(update.stdout).toContain(`logo:                /brand/${sha}.png`);
    expect((await stored()).logos.good).toBe(true);
    const removed = await cli(['client', 'update', clientId, '--logo', 'none']);
    expect(removed.code).toBe(0);
    expect((await stored()).logos.good).toBe(false);
  });

  it('refuses recovery codes off without a fallback on another channel, and names what counts', async () => {
    const run = await cli(['client', 'update', clientId, '--mfa-methods', 'totp', '--recovery-codes', 'off']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('recovery codes can be switched off only when the portal accepts methods on two channels');
    expect(run.stderr).toContain('this portal accepts authenticator app');
    const ok = await cli(['client', 'update', clientId, '--mfa-methods', 'sms,totp', '--recovery-codes', 'off']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('recovery codes after set-up:      off');
  });
});
