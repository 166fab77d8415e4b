// The response goes out only once everything the request wrote is durable (store.durably: one sync
// after the request's last write). That sync runs after the handlers, so when it fails — the disk
// cannot keep the writes, and the store now refuses writes until a restart — the answer the
// handlers prepared (tokens, a session cookie, a redirect with a code) must not go out: the
// client gets the same 503 with Retry-After as for any unavailable store, in the form it expects.
import type { Context, Middleware } from 'koa';
import type { Store } from '../store/port.ts';
import type { Logger } from '../log.ts';
import { storeUnavailableCause } from '../store/errors.ts';
import { renderUnavailable, RETRY_AFTER_SECONDS } from './errors.ts';
import { routeOf } from './request-log.ts';

/** What oidc-provider answers an unavailable store with on its JSON endpoints (oidc/unavailable.ts). */
const TEMPORARILY_UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable, try again shortly' };

function answerUnavailable(ctx: Context): void {
  const json = Boolean(ctx.response.is('json'));
  // Nothing of the prepared answer may reach the client: not its cookies, not its redirect.
  ctx.remove('Set-Cookie');
  ctx.remove('Location');
  if (json) {
    ctx.status = 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = TEMPORARILY_UNAVAILABLE;
    return;
  }
  renderUnavailable(ctx);
}

export function durableResponses(store: Pick<Store, 'durably'>, logger: Logger): Middleware {
  return async (ctx, next) => {
    // The probes report the store's state themselves and claim nothing was saved: their answer
    // (e.g. not ready, reason io) must reach the load balancer as it is.
    if (ctx.path === '/healthz' || ctx.path === '/readyz') return next();
    try {
      await store.durably(next);
    } catch (error) {
      const unavailable = storeUnavailableCause(error);
      if (!unavailable) throw error;
      logger.warn({ reason: unavailable.reason, route: routeOf(ctx) }, 'store unavailable: the response was withheld');
      answerUnavailable(ctx);
    }
  };
}
