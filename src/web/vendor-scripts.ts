// Browser libraries we serve ourselves (no CDN), straight from the installed npm package: there is
// no build step to copy them, and a copy in the repository could drift from the version the
// server side of the same library expects. Each file is read once at start and served from
// memory with an ETag.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Middleware } from 'koa';

const require = createRequire(import.meta.url);

/** The package's browser bundle (UMD: defines `window.SimpleWebAuthnBrowser`). */
function simpleWebAuthnBundle(): string {
  // The package exports only its entry point (script/index.js); the bundle for <script> use is in
  // dist/bundle beside it (the package's `unpkg` field).
  const entry = require.resolve('@simplewebauthn/browser');
  return path.join(path.dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js');
}

export const SIMPLEWEBAUTHN_BROWSER_PATH = '/static/vendor/simplewebauthn-browser.js';

/**
 * The altcha widget's CSP-friendly build (`dist/external`, the ES module: no injected <style>, which
 * its UMD twin still adds and our CSP refuses; no workers inlined as
 * blobs), its stylesheet, and the workers that do the proof of work (same origin, so
 * `script-src 'self'` covers them). public/static/altcha-setup.js registers the workers.
 */
function altchaFile(relative: string): string {
  const entry = require.resolve('altcha');
  // The package's entry is dist/main/altcha.umd.cjs; the other builds sit beside it under dist/.
  return path.join(path.dirname(entry), '..', relative);
}

export const ALTCHA_PATH = '/static/vendor/altcha.js';
export const ALTCHA_CSS_PATH = '/static/vendor/altcha.css';
export const ALTCHA_WORKER_PATHS = { 'PBKDF2/SHA-256': '/static/vendor/altcha-worker-pbkdf2.js', 'SHA-256': '/static/vendor/altcha-worker-sha.js' } as const;

interface VendorFile {
  body: Buffer;
  etag: string;
  type: string;
}

function load(file: string): VendorFile {
  const body = readFileSync(file);
  const type = file.endsWith('.css') ? 'text/css; charset=utf-8' : 'application/javascript; charset=utf-8';
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, type };
}

export const VENDOR_FILES: Readonly<Record<string, string>> = {
  [SIMPLEWEBAUTHN_BROWSER_PATH]: simpleWebAuthnBundle(),
  [ALTCHA_PATH]: altchaFile('external/altcha.min.js'),
  [ALTCHA_CSS_PATH]: altchaFile('external/altcha.css'),
  [ALTCHA_WORKER_PATHS['PBKDF2/SHA-256']]: altchaFile('workers/pbkdf2.js'),
  [ALTCHA_WORKER_PATHS['SHA-256']]: altchaFile('workers/sha.js'),
};

export function vendorScripts(files: Readonly<Record<string, string>> = VENDOR_FILES): Middleware {
  const loaded = new Map(Object.entries(files).map(([url, file]) => [url, load(file)]));
  return async (ctx, next) => {
    const file = loaded.get(ctx.path);
    if (!file || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', file.etag);
    ctx.type = file.type;
    if (ctx.get('If-None-Match') === file.etag) {
      ctx.status = 304;
      return;
    }
    ctx.body = file.body;
  };
}
