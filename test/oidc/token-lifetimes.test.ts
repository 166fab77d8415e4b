// Refresh-token lifetime, as decided in src/oidc/lifetimes.ts and seen by a portal (openid-client):
// without offline_access the refresh token ends with the login session (8 h, or logout); with
// offline_access (prompt=consent) it outlives the session for REFRESH_TOKEN_TTL_SECONDS within its
// grant. And nothing of an ended session stays in the store. The fake clock moves, no one sleeps.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { FakeClock } from '../../src/clock.ts';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('refresh token lifetime', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rp: RelyingParty;

  beforeEach(async () => {
    clock = new FakeClock();
    server = await startTestServer({ clock });
    const client = await server.addClient({ redirectUris: [REDIRECT_URI], postLogoutRedirectUris: ['http://127.0.0.1:9/'] });
    rp = await relyingParty(server.url, client.clientId, client.clientSecret);
    await server.addUser({ username: 'smit' });
  });

  afterEach(async () => {
    await server?.close();
  });

  async function login(agent: UserAgent, offline: boolean) {
    const request = await rp.authorize(offline ? { scope: 'openid offline_access', prompt: 'consent' } : { scope: 'openid' });
    const page = await agent.open(request.url, REDIRECT_URI);
    let back = await agent.submit(page, '/step/password/verify', { login: 'smit', password: TEST_PASSWORD }, REDIRECT_URI);
    if (!back.url.startsWith(REDIRECT_URI)) back = await agent.submit(back, '/consent', {}, REDIRECT_URI);
    return rp.callback(back.url, request);
  }

  async function logout(agent: UserAgent, idToken: string) {
    const url = oidc.buildEndSessionUrl(rp.config, { id_token_hint: idToken, post_logout_redirect_uri: 'http://127.0.0.1:9/' });
    const confirm = await agent.open(url.href);
    await agent.submit(confirm, '/session/end/confirm', { logout: 'yes' }, 'http://127.0.0.1:9/');
  }

  /** Rows per model as the store holds them after a sweep at the fake time. */
  async function rowsAfterSweep(): Promise<Record<string, number>> {
    await server.services.store.removeExpired(clock.now());
    const db = new Database(path.join(server.dataDir, 'poortwachter.sqlite'), { readonly: true });
    try {
      const rows = db.prepare<[], { model: string; n: number }>('SELECT model, count(*) AS n FROM oidc_models GROUP BY model').all();
      return Object.fromEntries(rows.map((r) => [r.model, r.n]));
    } finally {
      db.close();
    }
  }

  it('without offline_access, it works during the 8-hour session and not after it', async () => {
    const tokens = await login(new UserAgent(), false);
    clock.advance(7 * HOUR);
    const refreshed = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    clock.advance(HOUR + 60_000);
    await expect(oidc.refreshTokenGrant(rp.config, refreshed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Nothing of that session is kept: session, grant and both refresh tokens (one consumed, kept
    // no longer than their grant) are swept.
    expect(await rowsAfterSweep()).toEqual({});
  });

  it('without offline_access, it ends when the patient logs out', async () => {
    const agent = new UserAgent();
    const tokens = await login(agent, false);
    await logout(agent, tokens.id_token!);
    await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('with offline_access, it outlives logout and the session, and ends with its grant after 14 days however often it rotates', async () => {
    const agent = new UserAgent();
    const tokens = await login(agent, true);
    expect(tokens.scope?.split(' ')).toContain('offline_access');
    await logout(agent, tokens.id_token!);
    const start = clock.now();
    clock.advance(9 * HOUR);
    let current = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    for (let day = 1; day <= 13; day += 1) {
      clock.advance(DAY - HOUR);
      current = await oidc.refreshTokenGrant(rp.config, current.refresh_token!);
    }
    // The consumed tokens of the chain are kept for replay detection (each until it would have expired).
    expect((await rowsAfterSweep()).RefreshToken).toBe(15);
    // Fourteen days after the consent the grant ends, and with it the token issued hours ago.
    clock.advance(start + 14 * DAY + HOUR - clock.now());
    await expect(oidc.refreshTokenGrant(rp.config, current.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await rowsAfterSweep()).toEqual({});
  });
});
