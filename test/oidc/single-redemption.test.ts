// A code or refresh token is redeemed once, whatever the timing: racing redemptions get one
// success, the others invalid_grant and the grant revoked (as a replay is); and a rotation whose new
// token cannot be stored leaves the old token usable, so the portal's retry is not taken for a replay.
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { serverWithPortal } from '../support/portal-server.ts';
import { passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';

describe('single redemption', () => {
  let server: TestServer;
  let rp: RelyingParty;

  beforeAll(async () => {
    ({ server, rp } = await serverWithPortal('bakker'));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('of many simultaneous refreshes with one token, one succeeds and its new token dies with the grant', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'bakker', TEST_PASSWORD);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of results.filter((r) => r.status === 'rejected')) expect(lost.reason).toMatchObject({ error: 'invalid_grant' });
    const winner = won[0]!.value;
    await expect(oidc.refreshTokenGrant(rp.config, winner.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await oidc.tokenIntrospection(rp.config, winner.access_token)).active).toBe(false);
  });

  it('of many simultaneous exchanges of one code, one succeeds', async () => {
    const agent = new UserAgent();
    await passwordLogin(rp, agent, 'bakker', TEST_PASSWORD);
    const request = await rp.authorize();
    const back = await agent.open(request.url, REDIRECT_URI);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => rp.callback(back.url, request)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const lost of results.filter((r) => r.status === 'rejected')) expect(lost.reason).toMatchObject({ error: 'invalid_grant' });
  });

  it('a refresh whose new token cannot be saved fails, and the retry with the same token works', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'bakker', TEST_PASSWORD);
    const file = path.join(server.dataDir, 'poortwachter.sqlite');
    // The next refresh token cannot be written, as on a full disk.
    const admin = new Database(file);
    admin.exec(`CREATE TRIGGER disk_full BEFORE INSERT ON oidc_models WHEN NEW.model = 'RefreshToken'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    try {
      await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toThrow();
    } finally {
      admin.exec('DROP TRIGGER disk_full');
      admin.close();
    }
    const retried = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect(retried.refresh_token).toBeTruthy();
    const next = await oidc.refreshTokenGrant(rp.config, retried.refresh_token!);
    expect(next.access_token).toBeTruthy();
  });

  it('a refresh whose access token cannot be saved fails, and the retry with the same token works', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'bakker', TEST_PASSWORD);
    const file = path.join(server.dataDir, 'poortwachter.sqlite');
    // The new refresh token could be stored, the access token issued with it cannot (disk full).
    const admin = new Database(file);
    admin.exec(`CREATE TRIGGER disk_full BEFORE INSERT ON oidc_models WHEN NEW.model = 'AccessToken'
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    try {
      await expect(oidc.refreshTokenGrant(rp.config, tokens.refresh_token!)).rejects.toThrow();
    } finally {
      admin.exec('DROP TRIGGER disk_full');
      admin.close();
    }
    // Not a replay: the old token was not consumed, the grant lives, the chain goes on.
    const retried = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!);
    expect((await oidc.tokenIntrospection(rp.config, retried.access_token)).active).toBe(true);
    const next = await oidc.refreshTokenGrant(rp.config, retried.refresh_token!);
    expect((await oidc.tokenIntrospection(rp.config, next.access_token)).active).toBe(true);
  });
});
