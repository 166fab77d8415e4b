// The smallest world most store and token tests need: the real server, one confidential portal
// (openid-client) with the test redirect URI, and the named patients with the test password.
import { startTestServer, type TestServer } from './server.ts';
import { relyingParty, REDIRECT_URI, type RelyingParty } from './relying-party.ts';

export async function serverWithPortal(...usernames: string[]): Promise<{ server: TestServer; rp: RelyingParty }> {
  const server = await startTestServer();
  const client = await server.addClient({ redirectUris: [REDIRECT_URI] });
  const rp = await relyingParty(server.url, client.clientId, client.clientSecret);
  for (const username of usernames) await server.addUser({ username });
  return { server, rp };
}
