// A failed fsync of the SQLite WAL is final (Linux may report a later fsync as successful although
// the pages it could not write are gone): the request whose sync failed gets a 503 with Retry-After
// in the form it expects (never Koa's 500 text/plain, never the tokens or cookies it had prepared),
// readiness turns not ready, every later write is refused with a 503, and the failure is logged once
// for the operator; serve.ts then stops the process so that its supervisor restarts it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent } from '../support/user-agent.ts';
import { serverWithPortal } from '../support/portal-server.ts';
import { relyingParty, passwordLogin, REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import type { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { Syncer } from '../../src/store/sqlite/wal-syncer.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';

/** Makes the store's next WAL sync fail as an fsync with EIO does; the ones after it are real. */
function failNextSync(server: TestServer): void {
  const syncer = (server.services.store as SqliteStore).writes.syncer as Syncer & { sync: Syncer['sync'] };
  expect(syncer).toBeDefined();
  const real = syncer.sync.bind(syncer);
  syncer.sync = () => {
    syncer.sync = real;
    return Promise.reject(new StoreUnavailableError('io', { cause: new Error('could not make the write durable (fsync of the SQLite WAL failed: EIO)') }));
  };
}

describe('a failed fsync', () => {
  let server: TestServer;
  let rp: RelyingParty;

  beforeAll(async () => {
    ({ server, rp } = await serverWithPortal('visser'));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('answers the request 503, turns readiness off and refuses every later write', async () => {
    const tokens = await passwordLogin(rp, new UserAgent(), 'visser', TEST_PASSWORD);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    // The refresh rotates its token and stores an access token, then waits for the sync, which fails.
    failNextSync(server);
    const refused = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(oidc.ClientError);
    const response = (refused as oidc.ClientError).cause as Response;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ error: 'temporarily_unavailable' });
    // The tokens prepared for the response never left the server.
    expect(body).not.toContain('access_token');

    // Readiness: not ready, naming the store (the probe's own write is refused).
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'not_ready', checks: { store: { ok: false, reason: 'io' } } });

    // The authorization endpoint cannot store its interaction: the patient sees the unavailable page
    // (503, Retry-After), not a redirect that would carry a half-made interaction to the portal.
    const request = await rp.authorize();
    const page = await new UserAgent().request(request.url);
    expect(page.status).toBe(503);
    expect(page.headers?.get('retry-after')).toBe('30');
    expect(page.location).toBeUndefined();

    // Writes stay refused although the syncer itself would work again: only a restart recovers.
    const again = await oidc.refreshTokenGrant(rp.config, tokens.refresh_token!).catch((error: unknown) => error);
    expect(((again as oidc.ClientError).cause as Response).status).toBe(503);

    const fatal = server.logs().split('\n').filter((line) => line.includes('can no longer make writes durable'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toContain('"level":60');
  });

  it('a page whose writes cannot be made durable is the unavailable page, without its cookies', async () => {
    const pageServer = await startTestServer();
    try {
      const client = await pageServer.addClient({ redirectUris: [REDIRECT_URI] });
      const pageRp = await relyingParty(pageServer.url, client.clientId, client.clientSecret);
      failNextSync(pageServer);
      // The authorization request stores an interaction and prepares a redirect with its cookie.
      const page = await new UserAgent().request((await pageRp.authorize()).url);
      expect(page.status).toBe(503);
      expect(page.headers?.get('retry-after')).toBe('30');
      expect(page.headers?.get('content-type')).toContain('text/html');
      expect(page.headers?.getSetCookie().filter((c) => c.startsWith('_interaction'))).toEqual([]);
      expect(page.location).toBeUndefined();
      expect(page.html).toContain('Tijdelijk niet beschikbaar');
    } finally {
      await pageServer.close();
    }
  });
});
