// Edge findings of the security review on the web layer: the language link of a 404 page, a 404
// with no way onward, the dev outbox answering any Host header, and X-Forwarded-* believed from
// any peer when TRUST_PROXY is on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { startTestServer, TEST_PASSWORD, type TestServer } from '../support/server.ts';
import { UserAgent, textOf } from '../support/user-agent.ts';
import { passwordLogin, relyingParty, REDIRECT_URI } from '../support/relying-party.ts';
import { loadConfig } from '../../src/config.ts';

/** A GET with a raw request line and headers (fetch would normalise the path or refuse a Host). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port, path, method: 'GET', headers, setHost: !('host' in headers) }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

const langLink = (html: string) => /class="lang-switch" href="([^"]*)"/.exec(html)?.[1];

describe('pages that do not exist', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  it('builds the language link from the path, never to another host', async () => {
    for (const path of ['//evil.example//evil.example', '//evil.example/x?lang=nl', '/\\evil.example', '/%2F%2Fevil.example']) {
      const page = await rawGet(server.url, path);
      expect(page.status, path).toBe(404);
      const link = langLink(page.body)!.replaceAll('&amp;', '&');
      expect(link, path).toMatch(/^\/[^/\\]/);
      expect(new URL(link, server.url).origin, path).toBe(server.url);
      expect(link, path).toContain('lang=en');
    }
    const switched = await rawGet(server.url, '/nergens?lang=en');
    expect(switched.body).toContain('<html lang="en">');
    expect(langLink(switched.body)).toBe('/nergens?lang=nl');
  });

  it('offers a way onward: the account page and back to the portal, in the chosen language', async () => {
    const page = await new UserAgent().request(`${server.url}/bestaat-niet`);
    expect(page.status).toBe(404);
    expect(textOf(page)).toContain('Pagina niet gevonden');
    expect(textOf(page)).toContain('Ga dan terug naar dat portaal');
    expect(page.html).toContain('href="/account"');
    const english = await new UserAgent().request(`${server.url}/bestaat-niet?lang=en`);
    expect(textOf(english)).toContain('Go to my account');
  });
});

describe('the dev outbox', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { DEV_OUTBOX: 'true' } });
    await server.services.delivery.sendMail({ to: 'jan@example.nl', subject: 'Uw code', text: 'Uw code is 482913' });
  });
  afterAll(() => server?.close());

  it('answers only to the issuer host and loopback names of its own port (no DNS rebinding)', async () => {
    const { port } = new URL(server.url);
    for (const host of [new URL(server.url).host, `localhost:${port}`, `[::1]:${port}`]) {
      const json = await rawGet(server.url, '/dev/outbox.json', { host });
      expect(json.status, host).toBe(200);
      expect(json.body).toContain('482913');
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `localhost:${Number(port) + 1}`, `127.0.0.1.evil.example:${port}`]) {
      for (const path of ['/dev/outbox.json', '/dev/outbox']) {
        const refused = await rawGet(server.url, path, { host });
        expect(refused.status, `${host}${path}`).toBe(421);
        expect(refused.body, `${host}${path}`).not.toContain('482913');
      }
    }
  });
});

describe('TRUST_PROXY_ADDRESSES', () => {
  const authorizeUrl = (server: TestServer, clientId: string) =>
    `${server.url}/auth?client_id=${clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`;

  async function loginIp(server: TestServer, forwardedFor: string): Promise<string | null> {
    const client = await server.addClient({ redirectUris: [REDIRECT_URI] });
    const rp = await relyingParty(server.url, client.clientId, client.clientSecret);
    const agent = new UserAgent();
    // This browser's requests claim to come through a proxy for `forwardedFor`.
    agent.extraHeaders = { 'x-forwarded-for': forwardedFor };
    const username = `ip-${forwardedFor.replaceAll('.', '-')}`;
    await server.addUser({ username });
    await passwordLogin(rp, agent, username, TEST_PASSWORD);
    const [event] = await server.services.store.audit.list({ type: 'login.completed', limit: 1 });
    return event?.ip ?? null;
  }

  it('ignores X-Forwarded-* from a peer that is not a listed proxy: the socket counts', async () => {
    const server = await startTestServer({ env: { TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '10.0.0.0/8, fd00::/8' } });
    try {
      server.services.config.issuer = server.url;
      const client = await server.addClient({ redirectUris: [REDIRECT_URI] });
      const direct = await fetch(authorizeUrl(server, client.clientId), { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(direct.status).toBe(303);
      expect(direct.headers.getSetCookie().some((c) => /;\s*secure/i.test(c))).toBe(false);
      expect(await loginIp(server, '203.0.113.7')).toBe('127.0.0.1');
    } finally {
      await server.close();
    }
  });

  it('believes a listed proxy', async () => {
    const server = await startTestServer({ env: { TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '127.0.0.1' } });
    try {
      server.services.config.issuer = server.url;
      const client = await server.addClient({ redirectUris: [REDIRECT_URI] });
      const proxied = await fetch(authorizeUrl(server, client.clientId), { redirect: 'manual', headers: { 'x-forwarded-proto': 'https' } });
      expect(proxied.headers.getSetCookie().every((c) => /;\s*secure/i.test(c))).toBe(true);
      expect(await loginIp(server, '203.0.113.8')).toBe('203.0.113.8');
    } finally {
      await server.close();
    }
  });

  it('is validated at start', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '10.0.0.0/33' })).toThrow(/TRUST_PROXY_ADDRESSES: "10.0.0.0\/33"/);
    expect(() => loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: 'proxy.local' })).toThrow(/not an IP address or CIDR/);
    expect(() => loadConfig({ TRUST_PROXY_ADDRESSES: '10.0.0.1' })).toThrow(/only means something with TRUST_PROXY=true/);
    expect(loadConfig({ TRUST_PROXY: 'true', TRUST_PROXY_ADDRESSES: '10.0.0.1, 192.168.0.0/16,::1' }).trustProxyAddresses).toEqual(['10.0.0.1', '192.168.0.0/16', '::1']);
  });
});
