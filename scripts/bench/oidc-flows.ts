// One password login and one refresh, as a browser and a portal would do them, over plain HTTP.
// The same code drives both servers: it only relies on the protocol (authorize, a login form
// whose action ends in /step/password/verify, redirects, the token endpoint).
import { createHash, randomBytes } from 'node:crypto';
import { basicAuth, CookieJar, type HttpClient, type HttpResponse } from './http.ts';
import { isRecord, LOGIN_SCOPE, nextPatientLogin, type ServerInfo } from './shared.ts';

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export class FlowError extends Error {
  constructor(step: string, response: HttpResponse | undefined, detail = '') {
    const status = response ? ` → ${response.status}` : '';
    const body = response?.body ? `: ${response.body.replace(/\s+/g, ' ').slice(0, 300)}` : '';
    super(`${step}${status}${detail ? ` (${detail})` : ''}${body}`);
    this.name = 'FlowError';
  }
}

const MAX_REDIRECTS = 10;
const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match?.[1] === undefined ? undefined : decode(match[1]);
}

/** The form whose action contains `actionPart`, with the values of its named inputs. */
function findForm(html: string, base: URL, actionPart: string): { action: URL; fields: Record<string, string> } | undefined {
  for (const [form] of html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)) {
    const open = form.slice(0, form.indexOf('>') + 1);
    const action = attribute(open, 'action');
    if (!action?.includes(actionPart)) continue;
    const fields: Record<string, string> = {};
    for (const [input] of form.matchAll(/<input\b[^>]*>/g)) {
      const name = attribute(input, 'name');
      const type = attribute(input, 'type');
      if (name && type !== 'checkbox' && type !== 'radio') fields[name] = attribute(input, 'value') ?? '';
    }
    return { action: new URL(action, base), fields };
  }
  return undefined;
}

function parseTokens(response: HttpResponse, step: string): Tokens & Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    throw new FlowError(step, response, 'not JSON');
  }
  if (response.status !== 200 || !isRecord(json) || typeof json.access_token !== 'string' || typeof json.refresh_token !== 'string') {
    throw new FlowError(step, response, 'no access and refresh token');
  }
  return { ...json, accessToken: json.access_token, refreshToken: json.refresh_token };
}

/** Counts the HTTP requests a login takes, to report them next to logins per second. */
export interface LoginCounters {
  httpRequests: number;
}

/**
 * authorize (PKCE S256, state, nonce) → login page → POST credentials → redirects → code →
 * token exchange. Every login is a new browser: fresh cookies, so no single sign-on shortcut.
 */
export async function passwordLogin(http: HttpClient, server: ServerInfo, counters?: LoginCounters): Promise<Tokens> {
  const jar = new CookieJar();
  const base = new URL(server.url);
  const send = async (url: URL, init: Parameters<HttpClient['request']>[1] = {}) => {
    const cookie = jar.header(url);
    const response = await http.request(url, { ...init, headers: { ...init.headers, ...(cookie ? { cookie } : {}) } });
    if (counters) counters.httpRequests += 1;
    jar.store(response.headers['set-cookie']);
    return response;
  };
  /** Follows redirects until a page renders or the portal's redirect_uri is reached. */
  const follow = async (start: HttpResponse, from: URL): Promise<{ response: HttpResponse; url: URL }> => {
    let response = start;
    let url = from;
    for (let hops = 0; hops < MAX_REDIRECTS; hops += 1) {
      const location = response.headers.location;
      if (response.status < 300 || response.status >= 400 || !location) return { response, url };
      url = new URL(location, url);
      if (url.href.startsWith(server.redirectUri)) return { response, url };
      response = await send(url);
    }
    throw new FlowError('too many redirects', response);
  };

  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL('/auth', base);
  authorize.search = new URLSearchParams({
    client_id: server.clientId,
    response_type: 'code',
    redirect_uri: server.redirectUri,
    scope: LOGIN_SCOPE,
    state,
    nonce: randomBytes(16).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  const page = await follow(await send(authorize), authorize);
  if (page.response.status !== 200) throw new FlowError('authorize → login page', page.response);
  const form = findForm(page.response.body, page.url, '/step/password/verify');
  if (!form) throw new FlowError('login page has no password form', page.response);

  const body = new URLSearchParams({ ...form.fields, login: nextPatientLogin(server.login), password: server.password }).toString();
  const done = await follow(await send(form.action, { method: 'POST', body }), form.action);
  if (!done.url.href.startsWith(server.redirectUri)) throw new FlowError('credentials → redirect_uri', done.response);
  const code = done.url.searchParams.get('code');
  if (!code || done.url.searchParams.get('state') !== state) throw new FlowError('callback', undefined, `no code or wrong state in ${done.url.search.slice(0, 200)}`);

  const token = await http.request(new URL('/token', base), {
    method: 'POST',
    headers: { authorization: basicAuth(server.clientId, server.clientSecret) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: server.redirectUri, code_verifier: verifier }).toString(),
  });
  if (counters) counters.httpRequests += 1;
  const tokens = parseTokens(token, 'code → token');
  if (typeof tokens.id_token !== 'string') throw new FlowError('code → token', token, 'no id_token');
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** One refresh_token grant; rotation must hand out a new refresh token. */
export async function refresh(http: HttpClient, server: ServerInfo, refreshToken: string): Promise<Tokens> {
  const response = await http.request(new URL('/token', server.url), {
    method: 'POST',
    headers: { authorization: basicAuth(server.clientId, server.clientSecret) },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
  });
  const tokens = parseTokens(response, 'refresh_token grant');
  if (tokens.refreshToken === refreshToken) throw new FlowError('refresh_token grant', response, 'refresh token was not rotated');
  return { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}
