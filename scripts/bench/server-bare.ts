// The baseline: oidc-provider alone, as its README would set it up, with the default in-memory
// adapter, a static client and a hand-made login route. What it shares with Poortwachter is what
// shapes the measured responses, so the ratio shows Poortwachter's own cost and nothing else:
//  - the same client metadata (built by Poortwachter's own metadataFromInput), the same token
//    lifetimes, refresh-token rotation, refresh tokens for every code grant, and first-party
//    grants without a consent screen;
//  - the same signing key set (RS256 + ES256, current and next: same JWKS and ID token work);
//  - the same claims and scopes, so ID tokens and discovery documents are alike in size;
//  - the same password cost: argon2id m=19456 t=2 p=1 verified on every login.
// What it leaves out is exactly Poortwachter: SQLite, flows, throttles, audit, pug pages,
// security headers, language, static files, error pages.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Provider, { type ClientMetadata, type Configuration, type JWK } from 'oidc-provider';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { metadataFromInput } from '../../src/oidc/client-registry.ts';
import { POLICY_PROPERTIES } from '../../src/oidc/client-policy.ts';
import { ACR, ACR_VALUES } from '../../src/oidc/assurance.ts';
import { OIDC_CLAIMS, OIDC_SCOPES } from '../../src/oidc/provider.ts';
import { serveControl } from './child-control.ts';
import { ARGON2ID_PARAMS, BENCH_USER, REDIRECT_URI, TTL } from './shared.ts';

const ACCOUNT_ID = 'bench-account';
const MAX_FORM_BYTES = 16 * 1024;

function signingKey(alg: 'RS256' | 'ES256'): JWK {
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 16);
  return { ...jwk, kid, alg, use: 'sig' } as JWK;
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new Error('form too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, csrf: string, error?: string): string {
  return `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Inloggen</title></head><body>
<h1>Inloggen</h1>${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${escapeHtml(uid)}/step/password/verify">
<input type="hidden" name="_csrf" value="${escapeHtml(csrf)}">
<label>Gebruikersnaam <input name="login" autocomplete="username"></label>
<label>Wachtwoord <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Inloggen</button></form></body></html>`;
}

const server = http.createServer();
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const clientId = `bench-portal-${randomBytes(4).toString('hex')}`;
const clientSecret = randomBytes(32).toString('base64url');
const client = metadataFromInput({ name: 'Bench portal', redirectUris: [REDIRECT_URI], firstParty: true, clientCredentials: true }, clientId, clientSecret);
const passwordHash = await argon2Hash(BENCH_USER.password.normalize('NFKC'), ARGON2ID_PARAMS);
const cookieKeys = [randomBytes(32).toString('base64url')];
const cookieOptions = { signed: true, httpOnly: true, sameSite: 'lax', secure: false } as const;

const configuration: Configuration = {
  clients: [client as ClientMetadata],
  jwks: { keys: [signingKey('RS256'), signingKey('ES256'), signingKey('RS256'), signingKey('ES256')] },
  cookies: { keys: cookieKeys, long: cookieOptions, short: cookieOptions },
  acrValues: [...ACR_VALUES],
  claims: OIDC_CLAIMS,
  scopes: [...OIDC_SCOPES],
  responseTypes: ['code'],
  pkce: { required: (_ctx, c) => c.clientAuthMethod === 'none' },
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  },
  // The client carries Poortwachter's policy properties; declared so the metadata is accepted as is.
  extraClientMetadata: { properties: [...POLICY_PROPERTIES] },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  issueRefreshToken: (_ctx, c) => c.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  // First-party: grant what is asked without a consent prompt, as Poortwachter does.
  async loadExistingGrant(ctx) {
    const { session, client: c, params } = ctx.oidc;
    if (!session?.accountId || !c || !params) return undefined;
    const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(c.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: c.clientId, accountId: session.accountId });
    grant.addOIDCScope(String(params.scope ?? 'openid'));
    await grant.save();
    return grant;
  },
  findAccount: (_ctx, sub) =>
    sub === ACCOUNT_ID
      ? {
          accountId: sub,
          claims: () => ({
            sub,
            preferred_username: BENCH_USER.username,
            name: `${BENCH_USER.givenName} ${BENCH_USER.familyName}`,
            given_name: BENCH_USER.givenName,
            family_name: BENCH_USER.familyName,
            locale: 'nl',
            email: BENCH_USER.email,
            email_verified: true,
          }),
        }
      : undefined,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: TTL.accessToken,
    AuthorizationCode: TTL.authorizationCode,
    ClientCredentials: TTL.accessToken,
    IdToken: TTL.idToken,
    Interaction: TTL.interaction,
    Session: TTL.session,
    Grant: TTL.refreshToken,
    RefreshToken: TTL.refreshToken,
  },
  conformIdTokenClaims: true,
  enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'], userinfoSigningAlgValues: ['RS256', 'ES256'] },
};

const provider = new Provider(issuer, configuration);

// A CSRF token derived from the interaction uid: no storage needed, still bound to the form.
const csrfKey = randomBytes(32);
const csrfFor = (uid: string) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
const sameToken = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const INTERACTION = /^\/interaction\/([A-Za-z0-9_-]+)(\/step\/password\/verify)?$/;

provider.use(async (ctx, next) => {
  const match = INTERACTION.exec(ctx.path);
  if (!match) return next();
  const [, uid = '', verifyPath] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) {
    ctx.status = 400;
    ctx.body = 'interaction mismatch';
    return;
  }
  const csrf = csrfFor(uid);
  ctx.set('Cache-Control', 'no-store');
  if (!verifyPath && ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = loginPage(uid, csrf);
    return;
  }
  if (verifyPath && ctx.method === 'POST') {
    const form = await readForm(ctx.req);
    if (!sameToken(form.get('_csrf') ?? '', csrf)) {
      ctx.status = 403;
      ctx.body = 'bad csrf token';
      return;
    }
    const login = (form.get('login') ?? '').trim();
    const password = (form.get('password') ?? '').normalize('NFKC');
    // Always verify, also for an unknown login name: the same argon2 work as Poortwachter.
    const passwordOk = await argon2Verify(passwordHash, password).catch(() => false);
    if (!passwordOk || !login.startsWith(`${BENCH_USER.username}.`)) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(uid, csrf, 'Onjuiste gebruikersnaam of wachtwoord');
      return;
    }
    const url = await provider.interactionResult(ctx.req, ctx.res, {
      login: { accountId: ACCOUNT_ID, acr: ACR.low, amr: ['pwd'], remember: true },
    }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(url);
    return;
  }
  ctx.status = 405;
});

server.on('request', provider.callback());

serveControl(
  { name: 'bare', url: issuer, clientId, clientSecret, redirectUri: REDIRECT_URI, login: BENCH_USER.username, password: BENCH_USER.password },
  async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
);
