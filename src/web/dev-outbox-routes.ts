// Development only: the mails, SMS and calls that would have been sent, at /dev/outbox.
// main.ts never mounts it in production (config refuses DEV_OUTBOX there).
//
// It holds live login codes, so it answers only when the Host header names this server: the
// issuer's host, or a loopback name with the port the request came in on. A web page on any other
// name (DNS rebinding: evil.example resolving to 127.0.0.1) gets nothing.
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { DevOutbox } from '../delivery/dev-outbox.ts';
import { render } from './render.ts';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export function outboxHostAllowed(hostHeader: string | undefined, issuer: string, localPort: number | undefined): boolean {
  const host = (hostHeader ?? '').toLowerCase();
  if (!host) return false;
  if (host === new URL(issuer).host.toLowerCase()) return true;
  return localPort !== undefined && LOOPBACK_NAMES.some((name) => host === `${name}:${localPort}`);
}

export function devOutboxRoutes(outbox: DevOutbox, issuer: () => string): Router {
  const router = new Router();
  // The raw Host header, never X-Forwarded-Host: a proxy in front of a dev machine is not expected.
  const sameHost = async (ctx: Context, next: Next) => {
    if (outboxHostAllowed(ctx.req.headers.host, issuer(), ctx.req.socket.localPort)) return next();
    render(ctx, 'errors/message', { messageKey: 'errors.dev_outbox_host' }, 421);
  };
  router.get('/dev/outbox', sameHost, (ctx) => {
    render(ctx, 'dev/outbox', { messages: [...outbox.list()].reverse() });
  });
  router.get('/dev/outbox.json', sameHost, (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = outbox.list();
  });
  return router;
}
