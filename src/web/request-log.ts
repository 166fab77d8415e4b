// One log line per request, and the HTTP latency metric. The line says: request id, method, route
// pattern (never the path: it carries interaction uids; never the query: it carries codes), status,
// duration, and the portal and flow when some layer learnt them. It never holds a header, cookie,
// body or token. Every other line logged while the request is served carries the same request id
// (request-context.ts + the logger's mixin).
//
// The id comes from X-Request-Id only when a trusted proxy sent the request (TRUST_PROXY, and
// TRUST_PROXY_ADDRESSES when set), so a proxy's id links its access log to ours; from anyone else
// a client could plant ids to confuse an investigation, so we make our own. Either way it is
// echoed in the response's X-Request-Id.
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { currentRequest, runAfterResponse, runInRequest, type RequestContext } from '../request-context.ts';

export type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/** What proxies send: UUIDs (Caddy), 32 hex digits (nginx), other short tokens. Nothing else is taken. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:+=/-]{8,128}$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Polled by orchestrators and Prometheus every few seconds: logged at debug, not info. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

export interface RequestLogOptions {
  logger: Logger;
  metrics: Metrics;
  /** Whether this connection is a proxy we trust to name the request (see proxy-peers.ts). */
  trustedPeer(req: http.IncomingMessage): boolean;
}

/**
 * The proxy's id when `trusted`, else a new one. Read from rawHeaders: `req.headers` is built on
 * first use, and for requests whose handlers never read it (JWKS, discovery) that is most of the
 * cost of asking. A repeated header is refused like a malformed one.
 */
export function requestIdOf(req: http.IncomingMessage, trusted: boolean): string {
  if (!trusted) return randomUUID();
  let offered: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 12 && raw[i]!.toLowerCase() === 'x-request-id') {
      if (offered !== undefined) return randomUUID();
      offered = raw[i + 1];
    }
  }
  return offered !== undefined && ACCEPTABLE_ID.test(offered) ? offered : randomUUID();
}

/** Wraps the application's request listener: context for every log line, then the request's own line. */
export function withRequestLog(listener: RequestListener, options: RequestLogOptions): RequestListener {
  // The line is made only of values this file puts there (a method from a fixed set, a route
  // pattern, numbers, a registered client's id, a random flow id, a checked request id), so the
  // logger's redaction, a second line of defence for lines that carry objects, is skipped: its
  // wildcard paths cost ~70 µs per line, more than most requests take.
  const logger = options.logger.child({}, { redact: [] });
  return (req, res) => {
    const start = performance.now();
    const context: RequestContext = { requestId: requestIdOf(req, options.trustedPeer(req)), afterResponse: [] };
    res.setHeader('X-Request-Id', context.requestId);
    res.once('close', () => {
      // The answer is out: now the work it must not wait for (a recovery mail).
      runAfterResponse(context);
      const seconds = (performance.now() - start) / 1000;
      const method = METHODS.has(req.method ?? '') ? req.method! : 'OTHER';
      const route = context.route ?? 'unmatched';
      const status = res.statusCode;
      options.metrics.httpRequest(method, route, status, seconds);
      const level: 'debug' | 'info' | 'warn' = PROBES.has(route) ? 'debug' : status >= 500 ? 'warn' : 'info';
      // Nothing more to do when the level is off (the bench runs silent; some run at warn).
      if (!logger.isLevelEnabled(level)) return;
      const line: Record<string, unknown> = { method, route, status, ms: Math.round(seconds * 10_000) / 10 };
      if (context.clientId) line.clientId = context.clientId;
      if (context.flowId) line.flowId = context.flowId;
      if (!res.writableFinished) line.aborted = true;
      // In the request's context, so the logger adds its id like on every other line.
      runInRequest(context, writeLine, logger, level, line);
    });
    return runInRequest(context, listener, req, res);
  };
}

function writeLine(logger: Logger, level: 'debug' | 'info' | 'warn', line: Record<string, unknown>): void {
  logger[level](line, 'request');
}

/**
 * The route pattern that matched (@koa/router and oidc-provider's router both leave it in
 * `_matchedRoute`), and the portal oidc-provider identified. Runs around every route.
 */
export function noteRouteAndClient(clientIdOf: (ctx: Context) => string | undefined): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const request = currentRequest();
      if (request) {
        request.route = routeOf(ctx);
        const clientId = clientIdOf(ctx);
        if (clientId) request.clientId = clientId;
      }
    }
  };
}

export function routeOf(ctx: Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  // Files are served without a router; one label for all of them keeps the set of routes bounded.
  if (ctx.path.startsWith('/static/')) return '/static/*';
  return 'unmatched';
}
