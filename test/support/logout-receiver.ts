// A portal's back-channel logout endpoint in tests: receives logout tokens (OIDC Back-Channel
// Logout 1.0 §2.5) and verifies each as a portal must (§2.6): the signature against the issuer's
// published JWKS, `iss`, `aud`, `iat`, the back-channel logout event, a `sid`, and no `nonce`.
// node:crypto does the signature check, so no JOSE library is needed for the test alone.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

export interface VerifiedLogout {
  sub: string;
  sid: string;
  jti: string;
}

export interface LogoutReceiver {
  /** Register this as the portal's backchannel_logout_uri. */
  uri: string;
  /** Logout tokens that verified, in arrival order. */
  received: VerifiedLogout[];
  /** Tokens that arrived and did not verify (with the reason): a test expects none. */
  refused: string[];
  close(): Promise<void>;
}

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';

function part(token: string, index: number): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function verifyLogoutToken(token: string, issuer: string, clientId: string): Promise<VerifiedLogout> {
  const [h, p, s] = token.split('.');
  if (!h || !p || !s) throw new Error('not a JWS');
  const header = part(token, 0);
  const payload = part(token, 1);
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
  const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Array<JsonWebKey & { kid?: string }> };
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error('unknown kid');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(s, 'base64url');
  const ok = header.alg === 'RS256' ? verify('sha256', data, key, signature)
    : header.alg === 'ES256' ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : false;
  if (!ok) throw new Error(`bad signature (${String(header.alg)})`);
  if (payload.iss !== issuer) throw new Error('wrong iss');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(clientId)) throw new Error('wrong aud');
  if (typeof payload.iat !== 'number') throw new Error('no iat');
  if ('nonce' in payload) throw new Error('nonce present');
  const events = payload.events as Record<string, unknown> | undefined;
  if (!events || typeof events[EVENT] !== 'object') throw new Error('no logout event');
  if (typeof payload.sid !== 'string' || typeof payload.sub !== 'string' || typeof payload.jti !== 'string') throw new Error('no sid, sub or jti');
  return { sub: payload.sub, sid: payload.sid, jti: payload.jti };
}

/** `issuer()` is read when a token arrives (tests learn the issuer after binding its port). */
export async function startLogoutReceiver(issuer: () => string, clientId: () => string): Promise<LogoutReceiver> {
  const received: VerifiedLogout[] = [];
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      verifyLogoutToken(token, issuer(), clientId()).then(
        (logout) => {
          received.push(logout);
          res.writeHead(200, { 'cache-control': 'no-store' }).end();
        },
        (error: unknown) => {
          refused.push(error instanceof Error ? error.message : String(error));
          res.writeHead(400).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/backchannel-logout`,
    received,
    refused,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
