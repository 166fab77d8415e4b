// An example portal (relying party) that signs patients in through Poortwachter. It is written to
// be copied: plain node:http, openid-client v6 for everything OpenID Connect, no framework.
//
//   GET  /                    home: "Inloggen", or the signed-in patient's claims and "Uitloggen"
//   GET  /login[?acr=...]     starts the authorization code flow (PKCE S256 + state + nonce)
//   GET  /callback            exchanges the code, verifies the ID token, fetches userinfo
//   POST /logout              RP-initiated logout at Poortwachter
//   POST /backchannel-logout  Poortwachter ends a session here when the patient logs out elsewhere
import type http from 'node:http';
import { createPublicKey, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import * as oidc from 'openid-client';

export interface RelyingPartyOptions {
  /** Poortwachter's issuer, e.g. http://localhost:3000 */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where this portal is reachable; `${baseUrl}/callback` must be a registered redirect URI. */
  baseUrl: string;
}

export interface RelyingParty {
  handle: http.RequestListener;
  /** Signed-in sessions, for tests and the curious. */
  sessionCount(): number;
}

// Poortwachter's levels, weakest first. A portal that asks for a level must check the `acr` it
// gets back itself: the request is a wish, the ID token is what was proved.
const ACR_LEVELS = ['urn:poortwachter:acr:low', 'urn:poortwachter:acr:low-mfa', 'urn:poortwachter:acr:substantial'];
const ACR_SHORT: Record<string, string> = { low: ACR_LEVELS[0]!, 'low-mfa': ACR_LEVELS[1]!, substantial: ACR_LEVELS[2]! };

const SESSION_COOKIE = 'demo_rp_session';
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

interface Session {
  /** Between /login and /callback: the values that tie the callback to this browser. */
  pending?: { codeVerifier: string; state: string; nonce: string; acr?: string };
  login?: { idToken: string; claims: oidc.IDToken; userinfo: oidc.UserInfoResponse };
}

export async function createRelyingParty(options: RelyingPartyOptions): Promise<RelyingParty> {
  const redirectUri = `${options.baseUrl}/callback`;
  // Discovery reads /.well-known/openid-configuration once; the Configuration holds the endpoints.
  const config = await oidc.discovery(new URL(options.issuer), options.clientId, { redirect_uris: [redirectUri] }, oidc.ClientSecretBasic(options.clientSecret), {
    // Only for http://localhost in development; a real portal talks to Poortwachter over https.
    execute: options.issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : [],
  });
  // The ID token comes straight from the token endpoint, which OpenID Connect lets a client trust
  // without checking the signature; we check it anyway, it costs one JWKS fetch.
  oidc.enableNonRepudiationChecks(config);

  // Server-side sessions: the cookie holds only a random id, so nothing in it can be read or forged.
  // A real portal keeps these in its session store (Redis, database) so they survive restarts.
  const sessions = new Map<string, Session>();
  const seenLogoutTokens = new Map<string, number>();

  function sessionOf(req: http.IncomingMessage): { id: string; session: Session } | undefined {
    const id = readCookie(req, SESSION_COOKIE);
    const session = id ? sessions.get(id) : undefined;
    return id && session ? { id, session } : undefined;
  }

  function newSession(res: http.ServerResponse, session: Session): void {
    const id = randomBytes(32).toString('base64url');
    sessions.set(id, session);
    // SameSite=Lax: sent when Poortwachter redirects the browser back (a top-level GET), not with
    // cross-site POSTs, which is also what protects POST /logout from other sites.
    const secure = options.baseUrl.startsWith('https://') ? '; Secure' : '';
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${secure}`);
  }

  function home(req: http.IncomingMessage, res: http.ServerResponse): void {
    const login = sessionOf(req)?.session.login;
    if (!login) {
      send(res, 200, page('Demo portaal', `
        <p>Een voorbeeldportaal dat patiënten laat inloggen via Poortwachter.</p>
        <form action="/login" method="get"><button>Inloggen</button></form>
        <p><a href="/login?acr=substantial">Inloggen met niveau substantieel</a> (wachtwoord plus een tweede stap)</p>`));
      return;
    }
    const { claims, userinfo } = login;
    const authTime = typeof claims.auth_time === 'number' ? `${claims.auth_time} (${new Date(claims.auth_time * 1000).toISOString()})` : '-';
    send(res, 200, page('Ingelogd', `
      <p>Welkom, <strong>${escapeHtml(String(userinfo.name ?? userinfo.preferred_username ?? claims.sub))}</strong>.</p>
      <h2>Hoe is ingelogd</h2>
      <dl>
        <dt>acr (niveau)</dt><dd><code>${escapeHtml(String(claims.acr ?? '-'))}</code></dd>
        <dt>amr (methoden)</dt><dd><code>${escapeHtml(Array.isArray(claims.amr) ? claims.amr.join(', ') : '-')}</code></dd>
        <dt>auth_time</dt><dd><code>${escapeHtml(authTime)}</code></dd>
      </dl>
      <h2>ID token (geverifieerd)</h2><pre>${escapeHtml(JSON.stringify(claims, null, 2))}</pre>
      <h2>Userinfo</h2><pre>${escapeHtml(JSON.stringify(userinfo, null, 2))}</pre>
      <form action="/logout" method="post"><button>Uitloggen</button></form>`));
  }

  async function startLogin(url: URL, res: http.ServerResponse): Promise<void> {
    const acr = ACR_SHORT[url.searchParams.get('acr') ?? ''];
    // PKCE binds the code to this browser; state binds the callback to this request; nonce binds
    // the ID token to it. All three stay on the server until the callback.
    const pending = { codeVerifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), acr };
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email phone',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(acr ? { acr_values: acr } : {}),
    });
    newSession(res, { pending });
    redirect(res, authorizationUrl.href);
  }

  async function callback(req: http.IncomingMessage, url: URL, res: http.ServerResponse): Promise<void> {
    const current = sessionOf(req);
    const pending = current?.session.pending;
    if (!current || !pending) {
      send(res, 400, page('Inloggen mislukt', '<p>Deze inlogpoging is niet (meer) bekend. <a href="/">Probeer het opnieuw</a>.</p>'));
      return;
    }
    sessions.delete(current.id); // single use, whatever happens next
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      // Checks the state, sends the PKCE verifier, and validates the ID token (signature, iss,
      // aud, exp, nonce). The callback URL must be the registered redirect URI.
      tokens = await oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      send(res, 400, page('Inloggen mislukt', `<p>${escapeHtml(oidcErrorMessage(error))}</p><p><a href="/">Terug</a></p>`));
      return;
    }
    const claims = tokens.claims()!;
    if (pending.acr && ACR_LEVELS.indexOf(String(claims.acr)) < ACR_LEVELS.indexOf(pending.acr)) {
      send(res, 403, page('Niveau niet gehaald', `<p>Gevraagd: <code>${escapeHtml(pending.acr)}</code>, gekregen: <code>${escapeHtml(String(claims.acr))}</code>.</p><p><a href="/">Terug</a></p>`));
      return;
    }
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    // A new session id after login, so an id planted before login (session fixation) is worthless.
    newSession(res, { login: { idToken: tokens.id_token!, claims, userinfo } });
    redirect(res, '/'); // 303: a reload of the next page does not replay the code
  }

  function logout(req: http.IncomingMessage, res: http.ServerResponse): void {
    const current = sessionOf(req);
    if (current) sessions.delete(current.id);
    res.setHeader('Set-Cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    if (!current?.session.login) {
      redirect(res, '/');
      return;
    }
    // Ends the session at Poortwachter too; id_token_hint says who and which portal, so it may
    // send the browser back to our registered post_logout_redirect_uri.
    redirect(res, oidc.buildEndSessionUrl(config, { id_token_hint: current.session.login.idToken, post_logout_redirect_uri: `${options.baseUrl}/` }).href);
  }

  // Poortwachter POSTs a signed logout token here when the patient's session ends anywhere
  // (another portal, the account pages, an administrator). We end the matching local sessions.
  async function backchannelLogout(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = new URLSearchParams(await readBody(req, 64 * 1024));
    let claims: Record<string, unknown>;
    try {
      claims = await validateLogoutToken(body.get('logout_token') ?? '');
    } catch (error) {
      res.writeHead(400, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: errorMessage(error) }));
      return;
    }
    for (const [id, session] of sessions) {
      const login = session.login?.claims;
      // `sid` names one Poortwachter session; without it the token means "every session of sub".
      if (login && (claims.sid ? login.sid === claims.sid : login.sub === claims.sub)) sessions.delete(id);
    }
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
  }

  /**
   * OpenID Connect Back-Channel Logout 1.0 §2.6, kept short. What a real portal must check, all
   * of which happens here: a valid signature by a key from Poortwachter's JWKS with the expected
   * algorithm; `iss` is Poortwachter; `aud` contains our client_id; `iat` recent and `exp` not
   * passed; `events` holds the back-channel logout event; `sid` and/or `sub` present; no `nonce`
   * (so an ID token cannot be replayed as a logout token); and a `jti` not seen before. In
   * production use a maintained JOSE library (e.g. `jose`) rather than this hand-rolled check.
   */
  async function validateLogoutToken(token: string): Promise<Record<string, unknown>> {
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error('logout_token is not a signed JWT');
    const [encodedHeader, encodedPayload, signature] = parts as [string, string, string];
    const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    const allowed = config.serverMetadata().id_token_signing_alg_values_supported ?? ['RS256'];
    if (!header.alg || !['RS256', 'ES256'].includes(header.alg) || !allowed.includes(header.alg)) throw new Error('unexpected algorithm');
    const jwk = await signingKey(header.kid, header.alg);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`);
    const valid = verify('sha256', signed, header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, Buffer.from(signature, 'base64url'));
    if (!valid) throw new Error('bad signature');

    const claims = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const now = Math.floor(Date.now() / 1000);
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const events = claims.events as Record<string, unknown> | undefined;
    if (claims.iss !== config.serverMetadata().issuer) throw new Error('wrong issuer');
    if (!audience.includes(options.clientId)) throw new Error('not meant for this portal');
    if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > 300) throw new Error('iat missing or not recent');
    if (typeof claims.exp === 'number' && claims.exp < now - 30) throw new Error('expired');
    if (!events || typeof events !== 'object' || !(BACKCHANNEL_EVENT in events)) throw new Error('not a logout token');
    if (!claims.sid && !claims.sub) throw new Error('neither sid nor sub');
    if ('nonce' in claims) throw new Error('a logout token has no nonce');
    if (typeof claims.jti !== 'string') throw new Error('jti missing');
    for (const [jti, until] of seenLogoutTokens) if (until < now) seenLogoutTokens.delete(jti);
    if (seenLogoutTokens.has(claims.jti)) throw new Error('replayed');
    seenLogoutTokens.set(claims.jti, now + 600);
    return claims;
  }

  // JWKS cached by kid; refetched when an unknown kid shows up (Poortwachter rotated its keys).
  let jwks: JsonWebKey[] = [];
  async function signingKey(kid: string | undefined, alg: string): Promise<JsonWebKey> {
    const match = () => jwks.find((k) => k.kid === kid && (k.alg === undefined || k.alg === alg));
    if (!match()) {
      const response = await fetch(config.serverMetadata().jwks_uri!);
      jwks = ((await response.json()) as { keys: JsonWebKey[] }).keys;
    }
    const key = match();
    if (!key) throw new Error('unknown signing key');
    return key;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', options.baseUrl);
    const route = `${req.method} ${url.pathname}`;
    try {
      if (route === 'GET /') home(req, res);
      else if (route === 'GET /login') await startLogin(url, res);
      else if (route === 'GET /callback') await callback(req, url, res);
      else if (route === 'POST /logout') logout(req, res);
      else if (route === 'POST /backchannel-logout') await backchannelLogout(req, res);
      else send(res, 404, page('Niet gevonden', '<p><a href="/">Naar de startpagina</a></p>'));
    } catch (error) {
      if (!res.headersSent) send(res, 500, page('Er ging iets mis', `<p>${escapeHtml(errorMessage(error))}</p>`));
      else res.end();
    }
  }

  return {
    handle: (req, res) => void handle(req, res),
    sessionCount: () => [...sessions.values()].filter((s) => s.login).length,
  };
}

function readCookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > limit) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function redirect(res: http.ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store' }).end();
}

function send(res: http.ServerResponse, status: number, html: string): void {
  // no-store: pages with personal data must not sit in a shared or back-button cache.
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The OAuth error Poortwachter sent, where there is one: it says more than the exception text. */
function oidcErrorMessage(error: unknown): string {
  // error=access_denied in the callback when the patient cancelled at Poortwachter.
  if (error instanceof oidc.AuthorizationResponseError) return error.error_description ?? error.error;
  // A JSON error from the token endpoint, e.g. invalid_grant for a code used twice.
  if (error instanceof oidc.ResponseBodyError) return error.error_description ?? error.error;
  // A 401 with WWW-Authenticate, e.g. invalid_client for a wrong client secret.
  if (error instanceof oidc.WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    return parameters?.error_description ?? parameters?.error ?? error.message;
  }
  return errorMessage(error);
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Demo portaal</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}
button{font:inherit;padding:.5rem 1.25rem;background:#154273;color:#fff;border:0;border-radius:4px;cursor:pointer}
pre{background:#f3f3f3;padding:1rem;overflow:auto}dt{font-weight:600}dd{margin:0 0 .5rem}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`;
}
