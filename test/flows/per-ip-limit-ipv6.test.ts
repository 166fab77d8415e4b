// The per-IP password limit counts clients: an IPv4 address, or an IPv6 /64 (one subscriber holds
// at least that much), and an IPv4-mapped IPv6 address as its IPv4 address. Through a listed
// proxy, as production runs (TRUST_PROXY + TRUST_PROXY_ADDRESSES), with openid-client as the portal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgent } from '../support/user-agent.ts';
import { REDIRECT_URI, type RelyingParty } from '../support/relying-party.ts';
import { startFactorWorld, type FactorWorld } from '../support/factor-login.ts';

describe('the per-IP password limit and IPv6', () => {
  let world: FactorWorld;
  let portal: RelyingParty;
  let guesses = 0;

  beforeAll(async () => {
    world = await startFactorWorld({ env: { PASSWORD_FAILURES_PER_IP: '5', TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1' } });
    portal = await world.portal({ name: 'Plain', mfa: 'optional' });
  });
  afterAll(() => world?.close());

  /** One wrong password for a fresh (unknown) name, from `clientIp` as the proxy reports it. */
  async function guess(clientIp: string): Promise<number> {
    guesses += 1;
    const agent = new UserAgent();
    agent.extraHeaders = { 'x-forwarded-for': clientIp };
    const request = await portal.authorize();
    const start = await agent.open(request.url, REDIRECT_URI);
    return (await agent.submit(start, '/step/password/verify', { login: `ip-guess-${guesses}`, password: 'Zomer2024!' }, REDIRECT_URI)).status;
  }

  it('refuses one IPv6 /64 after 5 failures, whichever of its addresses the guesses come from', async () => {
    const statuses = [];
    for (let i = 0; i < 12; i += 1) statuses.push(await guess(`2001:db8:1:2::${(i + 1).toString(16)}`));
    expect(statuses.filter((s) => s === 429).length, statuses.join(',')).toBe(7);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    // Another /64 is another client.
    expect(await guess('2001:db8:1:3::1')).toBe(401);
  });

  it('refuses one IPv4 address after 5 failures, also when written as an IPv4-mapped IPv6 address', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push(await guess('203.0.113.7'));
    for (let i = 0; i < 4; i += 1) statuses.push(await guess('::ffff:203.0.113.7'));
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });
});
