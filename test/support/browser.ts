// Real Chromium for the hosted pages: one browser per test file, a fresh context (cookies,
// language choice, JavaScript on or off) per test, axe-core for WCAG 2.1 AA, and a record of
// what the console said, so tests can show that the strict CSP blocks nothing of ours.
// Chromium comes from Debian (`apt-get install -y chromium`); `npx playwright install` is never used.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { AxeResults, RunOptions } from 'axe-core';
import { afterAll, afterEach, beforeAll } from 'vitest';

export type { Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: the browser tests (test/browser) need it and are not skipped without it. ` +
        'Install it with `apt-get update && apt-get install -y chromium` (CI does); never `npx playwright install`.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export interface BrowserPage {
  page: Page;
  context: BrowserContext;
  /** Every console message and page error so far, as `type: text`. */
  console: string[];
  /** The console messages that report a Content Security Policy violation. */
  cspViolations(): string[];
}

export interface TestBrowser {
  /** A page in a fresh context, closed after the test. */
  newPage(options?: BrowserContextOptions): Promise<BrowserPage>;
}

/** Registers the hooks: Chromium starts once for the file, every test gets fresh contexts. */
export function useBrowser(): TestBrowser {
  let browser: Browser | undefined;
  const open: BrowserContext[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((context) => context.close()));
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async newPage(options = {}) {
      if (!browser) throw new Error('Chromium did not start (see the beforeAll error above)');
      const context = await browser.newContext({ locale: 'nl-NL', ...options });
      open.push(context);
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(15_000);
      const page = await context.newPage();
      const messages: string[] = [];
      page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
      return {
        page,
        context,
        console: messages,
        cspViolations: () => messages.filter((m) => m.includes('Content Security Policy')),
      };
    },
  };
}

/**
 * The portal's side in the browser: a real listener on an ephemeral port that answers every
 * request with a small page. (The non-browser tests use http://127.0.0.1:9/callback, where
 * nothing listens; a browser cannot land there: Chromium refuses port 9 as unsafe, and
 * Playwright's page.route() is not consulted for the target of a redirect, which is how the
 * identity provider sends the browser back.)
 */
export interface StubPortal {
  origin: string;
  /** Register this as the client's redirect_uri. */
  redirectUri: string;
  /** Register this as the client's post_logout_redirect_uri. */
  loggedOutUri: string;
  close(): Promise<void>;
}

export async function startPortal(): Promise<StubPortal> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end('<!doctype html><html lang="nl"><head><title>Portaal</title></head><body><p>portal</p></body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    redirectUri: `${origin}/callback`,
    loggedOutUri: `${origin}/signed-out`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs `action` (a click, a key press) and waits until the browser has followed the redirects to
 * a URL starting with `prefix` (the portal); returns that URL, with the code and state in it.
 */
export async function arriveAtPortal(page: Page, action: () => Promise<unknown>, prefix: string): Promise<string> {
  await Promise.all([page.waitForURL((url) => url.href.startsWith(prefix)), action()]);
  return page.url();
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  /** One line per offending element: its selector and what axe says is wrong. */
  nodes: string[];
}

/**
 * Runs axe-core on the page as it is now (WCAG 2.0/2.1 A and AA) and returns the violations in a
 * form that reads well in a failed `toEqual([])`. axe is evaluated through the DevTools protocol,
 * which the page's CSP does not govern, so the CSP stays on for everything else.
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (window as unknown as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const options: RunOptions = { runOnly: { type: 'tag', values: WCAG_TAGS }, resultTypes: ['violations'] };
  const results = await page.evaluate(
    (runOptions) => (window as unknown as { axe: { run(context: Document, options: RunOptions): Promise<AxeResults> } }).axe.run(document, runOptions),
    options,
  );
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact ?? null,
    help: v.help,
    nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`),
  }));
}

/** What has keyboard focus, described for assertions: tag, id, classes and accessible text. */
export function describeFocus(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const id = el.id ? `#${el.id}` : '';
    const classes = [...el.classList].map((c) => `.${c}`).join('');
    const text = (el.getAttribute('aria-label') ?? (el as HTMLElement).innerText ?? '').trim().slice(0, 60);
    return `${el.tagName.toLowerCase()}${id}${classes}${text ? ` "${text}"` : ''}`;
  });
}
