// The portal in tests: openid-client v6, a certified relying party, never hand-made HTTP.
import * as oidc from 'openid-client';
import type { UserAgent } from './user-agent.ts';

export const REDIRECT_URI = 'http://127.0.0.1:9/callback';

export interface RelyingParty {
  config: oidc.Configuration;
  clientId: string;
  /** Starts an authorization request; returns its URL and the checks for the callback. */
  authorize(params?: Record<string, string>): Promise<{ url: string; verifier: string; state: string; nonce: string }>;
  /** Exchanges the code in `callbackUrl` for tokens, verifying state, nonce and PKCE. */
  callback(callbackUrl: string, checks: { verifier: string; state: string; nonce: string }): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers>;
}

export async function relyingParty(issuer: string, clientId: string, clientSecret?: string, redirectUri = REDIRECT_URI): Promise<RelyingParty> {
  const config = await oidc.discovery(new URL(issuer), clientId, { redirect_uris: [redirectUri] }, clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  return {
    config,
    clientId,
    async authorize(params = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile email phone',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...params,
      });
      return { url: url.href, verifier, state, nonce };
    },
    callback(callbackUrl, checks) {
      return oidc.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: checks.verifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true });
    },
  };
}

/** Full password login as a patient: authorize → hosted login page → code → tokens. */
export async function passwordLogin(rp: RelyingParty, agent: UserAgent, login: string, password: string, params: Record<string, string> = {}) {
  const request = await rp.authorize(params);
  const page = await agent.open(request.url, REDIRECT_URI);
  const done = await agent.submit(page, '/step/password/verify', { login, password }, REDIRECT_URI);
  if (!done.url.startsWith(REDIRECT_URI)) throw new Error(`login did not return to the portal: ${done.status} ${done.html.slice(0, 2000)}`);
  return rp.callback(done.url, request);
}
