// A small reverse proxy for tests with several server processes: every request goes to the next
// upstream in turn, so consecutive steps of one login land on different processes. It keeps the
// Host header and appends X-Forwarded-For/-Proto/-Host as a real proxy does (the processes run
// with TRUST_PROXY and TRUST_PROXY_ADDRESSES=127.0.0.1, so the issuer is the proxy's address).
// An upstream that refuses the connection (killed) is skipped and the request goes to the next
// one: the request never reached it, so sending it elsewhere is safe (nginx's proxy_next_upstream
// for `error`). Bodies are read whole first so such a request can be sent again.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Served {
  method: string;
  path: string;
  /** Index of the upstream that answered. */
  upstream: number;
  status: number;
  /** From the whole request received to the upstream's response headers. */
  ms: number;
}

export interface RoundRobinProxy {
  url: string;
  /** Every request answered, in order of arrival. */
  log: Served[];
  /** The upstream the next request goes to (if it is up). */
  nextUpstream(): number;
  /** Makes the next request go to `index` (if it is up). */
  sendNextTo(index: number): void;
  /** Last entry whose path starts with `prefix`. */
  last(prefix: string): Served | undefined;
  close(): Promise<void>;
}

/** Marks each response, so a test can tell which process served it. */
export const SERVED_BY_HEADER = 'x-test-served-by';

export async function startRoundRobinProxy(upstreams: readonly string[]): Promise<RoundRobinProxy> {
  let next = 0;
  const down = new Set<number>();
  const log: Served[] = [];

  function pick(): number {
    for (let tries = 0; tries < upstreams.length; tries += 1) {
      const index = next;
      next = (next + 1) % upstreams.length;
      if (!down.has(index)) return index;
    }
    throw new Error('every upstream is down');
  }

  function forward(req: http.IncomingMessage, body: Buffer, index: number): Promise<http.IncomingMessage> {
    const target = new URL(upstreams[index]!);
    const peer = req.socket.remoteAddress ?? '127.0.0.1';
    const headers = {
      ...req.headers,
      'x-forwarded-for': req.headers['x-forwarded-for'] ? `${String(req.headers['x-forwarded-for'])}, ${peer}` : peer,
      'x-forwarded-proto': 'http',
      'x-forwarded-host': req.headers.host ?? '',
      connection: 'close',
    };
    return new Promise((resolve, reject) => {
      const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent: false }, resolve);
      upstream.once('error', reject);
      upstream.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const started = performance.now();
        for (let attempt = 0; attempt < upstreams.length; attempt += 1) {
          const index = pick();
          let answer: http.IncomingMessage;
          try {
            answer = await forward(req, body, index);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
              down.add(index);
              continue;
            }
            res.writeHead(502).end(String(error));
            return;
          }
          log.push({ method: req.method ?? 'GET', path: req.url ?? '/', upstream: index, status: answer.statusCode ?? 0, ms: performance.now() - started });
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, [SERVED_BY_HEADER]: String(index) });
          answer.pipe(res);
          return;
        }
        res.writeHead(502).end('no upstream');
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    nextUpstream: () => next,
    sendNextTo(index) {
      next = index;
    },
    last: (prefix) => log.findLast((entry) => entry.path.startsWith(prefix)),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
