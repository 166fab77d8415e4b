// A tiny Koa app that uses the passkey core the way a flow will: a challenge kept in a "flow"
// (here a Map), options embedded in the page with the product's mixins, public/static/passkey.js
// and the vendored library from the product's static route, the product's CSP, and the result of
// Passkeys.finish*() shown on a result page. It is not the product's login: that wiring comes
// later; this proves the parts it will use, in a real browser. It also records every posted
// ceremony with the challenge it answered, which is how test/fixtures/passkey/ was made.
import Koa from 'koa';
import Router from '@koa/router';
import serve from 'koa-static';
import pug from 'pug';
import http from 'node:http';
import path from 'node:path';
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { openStore } from '../../src/store/open.ts';
import type { AccountRecord, Store } from '../../src/store/port.ts';
import { systemClock, type Clock } from '../../src/clock.ts';
import { randomId } from '../../src/accounts/random.ts';
import { securityHeaders } from '../../src/web/security-headers.ts';
import { vendorScripts } from '../../src/web/vendor-scripts.ts';
import { formBody, readForm } from '../../src/web/form.ts';
import { translator } from '../../src/i18n/i18n.ts';
import { VIEWS_DIR } from '../../src/web/render.ts';
import { Passkeys } from '../../src/factors/passkey/passkeys.ts';
import type { PasskeyChallenge, PasskeyUse } from '../../src/factors/passkey/passkey-challenge.ts';
import { PASSKEY_FAILURES } from '../../src/factors/passkey/passkey-failure.ts';
import { ceremonyError, PASSKEY_RESPONSE_FIELD } from '../../src/factors/passkey/passkey-response.ts';
import { defaultPasskeyName, normalisePasskeyName } from '../../src/factors/passkey/passkey-name.ts';

const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));
const template = pug.compileFile(fileURLToPath(new URL('./passkey-page.pug', import.meta.url)), { basedir: VIEWS_DIR });
const t = translator('nl');

/** One posted ceremony: what the page was issued and what the browser sent back. */
export interface PostedCeremony {
  ceremony: 'registration' | 'authentication';
  use: PasskeyUse;
  /** The challenge as issued (before it was spent). */
  issued: PasskeyChallenge;
  response: string | undefined;
  outcome: string;
}

interface HarnessFlow {
  id: string;
  use: PasskeyUse;
  accountId: string | null;
  /** The flow's state: what a real flow keeps in the store. */
  challenge: PasskeyChallenge;
}

export interface PasskeyPage {
  /** http://localhost:<port>: WebAuthn needs a domain (localhost), not 127.0.0.1. */
  origin: string;
  store: Store;
  passkeys: Passkeys;
  posted: PostedCeremony[];
  addAccount(username: string): Promise<AccountRecord>;
  /** Page that registers a passkey for the account. `report`: post a cancelled dialog to the server. */
  registerUrl(accountId: string, use: PasskeyUse, options?: { report?: boolean }): string;
  /** Sign-in page; passwordless pages also offer autofill on a username field. */
  signInUrl(use: PasskeyUse, options?: { accountId?: string; report?: boolean; autofill?: boolean }): string;
  close(): Promise<void>;
}

export async function startPasskeyPage(options: { clock?: Clock } = {}): Promise<PasskeyPage> {
  const clock = options.clock ?? systemClock;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'poortwachter-passkey-'));
  const store = await openStore({ kind: 'sqlite', file: path.join(dataDir, 'passkeys.sqlite') });
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  const passkeys = new Passkeys(store.credentials, clock, { rpId: 'localhost', origins: [origin] });
  const flows = new Map<string, HarnessFlow>();
  const posted: PostedCeremony[] = [];
  const accounts = new Map<string, AccountRecord>();

  const render = (ctx: Koa.Context, locals: Record<string, unknown>, status = 200) => {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = template({ t, heading: 'Passkey', report: false, autofill: false, ...locals });
  };
  const flowOf = (ctx: Koa.Context): HarnessFlow => {
    const flow = flows.get(String(ctx.params.flow));
    if (!flow) ctx.throw(404);
    return flow;
  };

  const router = new Router();
  router.get('/register/:account', async (ctx) => {
    const account = accounts.get(ctx.params.account!);
    if (!account) return ctx.throw(404);
    const use: PasskeyUse = ctx.query.use === 'passwordless' ? 'passwordless' : 'second-factor';
    const flowId = randomId();
    const start = await passkeys.startRegistration({ account, use, flowId, rpName: t('common.product') });
    flows.set(flowId, { id: flowId, use, accountId: account.id, challenge: start.challenge });
    render(ctx, { kind: 'register', heading: t('passkey.enrol.title'), action: `/register/${flowId}/finish`, options: start.options, report: ctx.query.report === '1' });
  });
  router.post('/register/:flow/finish', formBody(), async (ctx) => {
    const flow = flowOf(ctx);
    const form = readForm(ctx);
    const issued = flow.challenge;
    const dialog = ceremonyError(form);
    if (dialog) {
      posted.push({ ceremony: 'registration', use: flow.use, issued, response: undefined, outcome: dialog });
      return render(ctx, { result: { outcome: dialog, message: t(dialog === 'cancelled' ? 'passkey.errors.register_cancelled' : `passkey.errors.${dialog}`) } }, 400);
    }
    const name = normalisePasskeyName(form.passkey_name);
    if (!name.ok) return render(ctx, { result: { outcome: name.reason, message: t('passkey.errors.name_too_long') } }, 400);
    const result = await passkeys.finishRegistration({
      accountId: flow.accountId!,
      use: flow.use,
      flowId: flow.id,
      challenge: flow.challenge,
      response: form[PASSKEY_RESPONSE_FIELD],
      name: name.name ?? defaultPasskeyName(ctx.get('User-Agent'), t),
    });
    if (result.challenge) flow.challenge = result.challenge;
    posted.push({ ceremony: 'registration', use: flow.use, issued, response: form[PASSKEY_RESPONSE_FIELD], outcome: result.ok ? 'ok' : result.reason });
    if (!result.ok) return render(ctx, { result: { outcome: result.reason, message: t(PASSKEY_FAILURES[result.reason].messageKey) } }, PASSKEY_FAILURES[result.reason].status);
    render(ctx, { result: { outcome: 'ok', message: t('passkey.settings.added', { name: String(result.record.data.name) }), detail: { recordId: result.record.id, userVerified: result.userVerified } } });
  });

  router.get('/sign-in', async (ctx) => {
    const use: PasskeyUse = ctx.query.use === 'passwordless' ? 'passwordless' : 'second-factor';
    const accountId = typeof ctx.query.account === 'string' ? ctx.query.account : null;
    const flowId = randomId();
    const start = await passkeys.startAuthentication({ use, flowId, accountId });
    flows.set(flowId, { id: flowId, use, accountId, challenge: start.challenge });
    render(ctx, {
      kind: 'authenticate',
      heading: t('passkey.title'),
      action: `/sign-in/${flowId}/finish`,
      options: start.options,
      report: ctx.query.report === '1',
      autofill: use === 'passwordless' && ctx.query.autofill !== '0',
    });
  });
  router.post('/sign-in/:flow/finish', formBody(), async (ctx) => {
    const flow = flowOf(ctx);
    const form = readForm(ctx);
    const issued = flow.challenge;
    const dialog = ceremonyError(form);
    if (dialog) {
      posted.push({ ceremony: 'authentication', use: flow.use, issued, response: undefined, outcome: dialog });
      return render(ctx, { result: { outcome: dialog, message: t(`passkey.errors.${dialog}`) } }, 400);
    }
    const result = await passkeys.finishAuthentication({ use: flow.use, flowId: flow.id, accountId: flow.accountId, challenge: flow.challenge, response: form[PASSKEY_RESPONSE_FIELD] });
    if (result.challenge) flow.challenge = result.challenge;
    posted.push({ ceremony: 'authentication', use: flow.use, issued, response: form[PASSKEY_RESPONSE_FIELD], outcome: result.ok ? 'ok' : result.reason });
    if (!result.ok) return render(ctx, { result: { outcome: result.reason, message: t(PASSKEY_FAILURES[result.reason].messageKey), detail: result.clone ?? {} } }, PASSKEY_FAILURES[result.reason].status);
    render(ctx, { result: { outcome: 'ok', detail: { accountId: result.accountId, amr: result.proof.amr, multiFactor: result.proof.multiFactor, signCount: result.record.data.signCount } } });
  });

  const app = new Koa();
  app.use(securityHeaders({ https: false }));
  app.use(vendorScripts());
  app.use(serve(PUBLIC_DIR));
  app.use(router.routes());
  server.on('request', app.callback());

  return {
    origin,
    store,
    passkeys,
    posted,
    async addAccount(username) {
      const now = clock.now();
      const account: AccountRecord = {
        id: randomId(), username, email: `${username}@example.nl`, emailVerified: true, phoneEncrypted: null, phoneHint: null, phoneVerified: false,
        givenName: null, familyName: null, locale: 'nl', status: 'active', settings: {}, requiredActions: [], createdAt: now, updatedAt: now,
      };
      await store.accounts.create(account);
      accounts.set(account.id, account);
      return account;
    },
    registerUrl: (accountId, use, opts = {}) => `${origin}/register/${accountId}?use=${use}${opts.report ? '&report=1' : ''}`,
    signInUrl: (use, opts = {}) =>
      `${origin}/sign-in?use=${use}${opts.accountId ? `&account=${opts.accountId}` : ''}${opts.report ? '&report=1' : ''}${opts.autofill === false ? '&autofill=0' : ''}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
