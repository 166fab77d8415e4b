// Another process holding SQLite's write lock past the busy timeout (`poortwachter db vacuum` run
// against a live database, or a second server's long transaction) is an unavailable store: 503 with
// Retry-After on the token endpoint and on our pages, never a 500, and nothing changed.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { findForm, textOf, UserAgent } from '../support/user-agent.ts';
import { serverWithPortal } from '../support/portal-server.ts';
import { passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';

describe('the write lock held by another process', () => {
  let server: TestServer;
  let rp: RelyingParty;

  beforeAll(async () => {
    ({ server, rp } = await serverWithPortal('smit'));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('is a 503 with Retry-After past the busy timeout, and the same refresh works once it is free', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'smit', TEST_PASSWORD);
    const other = new Database(path.join(server.dataDir, 'poortwachter.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    let refused: unknown;
    try {
      refused = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).catch((error: unknown) => error);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const response = (refused as oidc.ClientError).cause as Response;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(refreshed.access_token).toBeTruthy();
  }, 20_000);

  it('a login page posted meanwhile is the unavailable page (503), and works once the lock is free', async () => {
    const agent = new UserAgent();
    const page = await agent.open((await rp.authorize()).url, REDIRECT_URI);
    const form = findForm(page, '/step/password/verify');
    const post = () => agent.request(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, login: 'smit', password: TEST_PASSWORD }).toString() });
    const other = new Database(path.join(server.dataDir, 'poortwachter.sqlite'));
    other.exec('BEGIN IMMEDIATE');
    let refused;
    try {
      refused = await post();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(refused.status).toBe(503);
    expect(refused.headers?.get('retry-after')).toBe('30');
    expect(textOf(refused)).toContain('Tijdelijk niet beschikbaar');
    expect((await post()).status).toBe(303);
  }, 20_000);
});
