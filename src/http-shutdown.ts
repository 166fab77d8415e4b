// Stopping the HTTP server without cutting requests. A request in flight may already have changed
// the store (a refresh that consumed the old token): cutting its connection loses the patient's
// session, since the client never sees the new token. So on shutdown we stop accepting, close
// idle keep-alive connections at once, let every request in flight finish and close its
// connection after the response, and only cut what is left when the deadline passes.
import type http from 'node:http';

export type ShutdownOutcome = 'drained' | 'forced';

export interface HttpShutdown {
  /** Requests received whose response has not finished yet. */
  inFlight(): number;
  /** True from the moment close() was called. */
  draining(): boolean;
  /**
   * Stops accepting connections and waits until every connection has closed: 'drained', or
   * 'forced' when `deadlineMs` passed (or force() was called) and the rest were cut.
   */
  close(deadlineMs: number): Promise<ShutdownOutcome>;
  /** Cuts every connection now (an operator's second signal); a pending close() then resolves. */
  force(): void;
}

export function trackForShutdown(server: http.Server): HttpShutdown {
  const open = new Set<http.ServerResponse>();
  let draining = false;
  let closing: Promise<ShutdownOutcome> | undefined;
  let cutNow: (() => void) | undefined;

  // Registered before the application's listener, so a response can still get `Connection: close`.
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    open.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      open.delete(res);
      // The connection is idle now: while draining, do not leave it to the keep-alive timeout.
      if (draining) server.closeIdleConnections();
    });
  });

  return {
    inFlight: () => open.size,
    draining: () => draining,
    close(deadlineMs) {
      closing ??= new Promise<ShutdownOutcome>((resolve) => {
        draining = true;
        // Responses not yet started tell the client this connection ends with them.
        for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
        let outcome: ShutdownOutcome = 'drained';
        const cut = () => {
          outcome = 'forced';
          clearTimeout(timer);
          server.closeAllConnections();
        };
        const timer = setTimeout(cut, deadlineMs);
        cutNow = cut;
        // The callback runs once every connection has closed. close() also closes idle ones.
        server.close(() => {
          clearTimeout(timer);
          resolve(outcome);
        });
      });
      return closing;
    },
    force() {
      if (cutNow) cutNow();
      else server.closeAllConnections();
    },
  };
}
