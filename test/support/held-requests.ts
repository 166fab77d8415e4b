// Requests that are surely in flight: a fetch that sends the first half of each request body and
// holds the rest until release(). The server has begun every such request (its parser is inside
// the message) and cannot answer it before the rest arrives, so a test can send SIGTERM while they
// are open — the situation in which a shutdown must not cut anything.
import http from 'node:http';

/** What both openid-client's customFetch and the UserAgent pass to fetch. */
interface FetchOptions {
  method?: string;
  headers?: HeadersInit;
  body?: unknown;
  redirect?: RequestRedirect;
  signal?: AbortSignal | null;
}

export class HeldRequests {
  private readonly gate = Promise.withResolvers<void>();
  private halfSent = 0;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  /** A fetch for openid-client (`customFetch`) or the UserAgent. Only for requests with a body. */
  readonly fetch = async (input: string | URL | Request, init?: FetchOptions): Promise<Response> => {
    const body = init?.body;
    const bytes = typeof body === 'string' || body instanceof URLSearchParams ? Buffer.from(body.toString()) : body instanceof Uint8Array ? Buffer.from(body) : undefined;
    if (bytes === undefined) throw new Error('HeldRequests only holds requests with a string, form or byte body');
    const half = Math.max(1, bytes.length >> 1);
    let step = 0;
    // highWaterMark 0: pull() runs only when fetch wants the next chunk, i.e. after it has written
    // the previous one to the socket. So the second pull means "the first half is on its way".
    const stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          step += 1;
          if (step === 1) {
            controller.enqueue(bytes.subarray(0, half));
            return;
          }
          this.countHalfSent();
          await this.gate.promise;
          controller.enqueue(bytes.subarray(half));
          controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const headers = new Headers(init?.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded;charset=UTF-8');
    return fetch(input, { ...init, headers, body: stream, duplex: 'half' } as RequestInit);
  };

  private countHalfSent(): void {
    this.halfSent += 1;
    for (const waiter of this.waiters.filter((w) => this.halfSent >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** Resolves once `count` requests have sent their first half. */
  sent(count: number): Promise<void> {
    if (this.halfSent >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /** Lets every held request send the rest of its body. */
  release(): void {
    this.gate.resolve();
  }
}

/**
 * Resolves after the server at `url` answered a request on a new connection. The server reads
 * ready sockets in the order they became ready, so by then it has read whatever reached it before
 * (the first halves of held requests): a barrier before sending a signal.
 */
export function roundTrip(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}
