// A small HTTP client for the custom drivers: node:http with keep-alive (cheaper per request than
// fetch, so the load generator leaves more of the shared CPU to the server), no redirect
// following (the login driver walks every redirect itself), and a cookie jar that honours
// cookie paths as oidc-provider scopes `_interaction` to /interaction/<uid>.
import http from 'node:http';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestInit {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** application/x-www-form-urlencoded unless a content-type header says otherwise. */
  body?: string;
}

const REQUEST_TIMEOUT_MS = 15_000;

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(maxSockets: number) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  request(url: URL, init: RequestInit = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: '*/*', ...init.headers };
    if (init.body !== undefined) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(init.body));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: init.method ?? 'GET', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`timeout after ${REQUEST_TIMEOUT_MS} ms: ${init.method ?? 'GET'} ${url.pathname}`)));
      req.on('error', reject);
      req.end(init.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Cookie {
  value: string;
  path: string;
}

/** One browser's cookies. A new jar per login makes every login a fresh visitor (no SSO). */
export class CookieJar {
  private readonly cookies = new Map<string, Cookie>();

  header(url: URL): string | undefined {
    const pairs: string[] = [];
    for (const [name, cookie] of this.cookies) {
      if (url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`)) {
        pairs.push(`${name}=${cookie.value}`);
      }
    }
    return pairs.length ? pairs.join('; ') : undefined;
  }

  store(setCookie: string[] | undefined): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.trim().split('=');
        const lower = key.toLowerCase();
        if (lower === 'path' && val) path = val;
        if (lower === 'max-age' && Number(val) <= 0) expired = true;
        if (lower === 'expires' && Date.parse(val) <= Date.now()) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }
}

/** client_secret_basic (RFC 6749 §2.3.1: both parts form-encoded before base64). */
export function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}
