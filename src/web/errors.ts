// Errors users see: a clear page in their language with a 4xx status. Anything unexpected is a
// 500 page that says nothing of internals; the details go to the log.
import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { render } from './render.ts';
import { InteractionNotFound } from '../oidc/interactions.ts';

export class UserFacingError extends Error {
  constructor(
    readonly status: number,
    readonly messageKey: string,
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
    } catch (error) {
      if (error instanceof InteractionNotFound) {
        render(ctx, 'errors/expired', { portal: error.portal }, 400);
        return;
      }
      if (error instanceof UserFacingError) {
        render(ctx, 'errors/message', { messageKey: error.messageKey }, error.status);
        return;
      }
      const status = (error as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500) {
        render(ctx, 'errors/message', { messageKey: status === 413 ? 'errors.too_large' : 'errors.bad_request' }, status);
        return;
      }
      const err = error as Error;
      logger.error({ err: { message: err.message, stack: err.stack }, path: ctx.path }, 'unexpected error');
      render(ctx, 'errors/message', { messageKey: 'errors.server' }, 500);
    }
  };
}
