// Errors users see: a clear page in their language with a 4xx status. An unavailable store (full
// disk, failing file system, unreachable database) is a 503 "temporarily unavailable" page with
// Retry-After. Anything unexpected is a 500 page that says nothing of internals; the details go
// to the log.
import type { Context, Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { render } from './render.ts';
import { InteractionNotFound } from '../oidc/interactions.ts';
import { storeUnavailableCause } from '../store/errors.ts';
import { routeOf } from './request-log.ts';

/** How long clients are asked to wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 30;

/** The "tijdelijk niet beschikbaar" page (also for oidc-provider's temporarily_unavailable). */
export function renderUnavailable(ctx: Context): void {
  render(ctx, 'errors/unavailable', {}, 503);
  ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
}

export class UserFacingError extends Error {
  constructor(
    readonly status: number,
    readonly messageKey: string,
    /** Values for the message's placeholders (a portal's name). */
    readonly params: Record<string, string> = {},
  ) {
    super(messageKey);
    this.name = 'UserFacingError';
  }
}

export function errorPages(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) render(ctx, 'errors/not-found', {}, 404);
      // oidc-provider's own error handlers answer its endpoints (temporarily_unavailable as JSON).
      if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    } catch (error) {
      if (error instanceof InteractionNotFound) {
        render(ctx, 'errors/expired', { portal: error.portal }, 400);
        return;
      }
      if (error instanceof UserFacingError) {
        render(ctx, 'errors/message', { messageKey: error.messageKey, messageParams: error.params, backUrl: error.status === 409 && ctx.path.startsWith('/account') ? '/account' : undefined }, error.status);
        return;
      }
      const unavailable = storeUnavailableCause(error);
      if (unavailable) {
        logger.warn({ reason: unavailable.reason, route: routeOf(ctx) }, 'store unavailable');
        renderUnavailable(ctx);
        return;
      }
      const status = (error as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500) {
        render(ctx, 'errors/message', { messageKey: status === 413 ? 'errors.too_large' : 'errors.bad_request' }, status);
        return;
      }
      const err = error as Error;
      // The route pattern, not the path: paths carry interaction uids (the request id links the rest).
      logger.error({ err: { message: err.message, stack: err.stack }, route: routeOf(ctx) }, 'unexpected error');
      render(ctx, 'errors/message', { messageKey: 'errors.server' }, 500);
    }
  };
}
