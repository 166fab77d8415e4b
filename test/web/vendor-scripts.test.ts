// The passkey scripts come from us: the @simplewebauthn/browser bundle straight from the installed
// package (the same release line as the server half that checks its output) and our passkey.js,
// through the real server's static routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { startTestServer, type TestServer } from '../support/server.ts';
import { SIMPLEWEBAUTHN_BROWSER_PATH } from '../../src/web/vendor-scripts.ts';

const require = createRequire(import.meta.url);
const packageJson = (name: string) => {
  // The packages export only their entry points; package.json sits one folder above them.
  const entry = require.resolve(name);
  return JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string; unpkg?: string };
};

describe('passkey scripts under /static', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the installed @simplewebauthn/browser bundle, of the server half’s major version', async () => {
    const browser = packageJson('@simplewebauthn/browser');
    const installed = readFileSync(path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '..', browser.unpkg!));
    const response = await fetch(`${server.url}${SIMPLEWEBAUTHN_BROWSER_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/javascript/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(installed)).toBe(true);
    expect(body.toString('utf8', 0, 80)).toContain(`[@simplewebauthn/browser@${browser.version}]`);
    expect(browser.version.split('.')[0]).toBe(packageJson('@simplewebauthn/server').version.split('.')[0]);
  });

  it('lets browsers cache it and revalidate with an ETag', async () => {
    const first = await fetch(`${server.url}${SIMPLEWEBAUTHN_BROWSER_PATH}`);
    const etag = first.headers.get('etag');
    expect(first.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    const again = await fetch(`${server.url}${SIMPLEWEBAUTHN_BROWSER_PATH}`, { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    expect((await again.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves passkey.js, and nothing for other methods or names', async () => {
    const ours = await fetch(`${server.url}/static/passkey.js`);
    expect(ours.status).toBe(200);
    expect(await ours.text()).toContain('SimpleWebAuthnBrowser');
    expect((await fetch(`${server.url}${SIMPLEWEBAUTHN_BROWSER_PATH}`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}/static/vendor/index.umd.min.js`)).status).toBe(404);
  });
});
