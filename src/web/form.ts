// Form bodies, parsed only on our own routes: a global body parser in front of oidc-provider
// breaks it. Url-encoded forms only, at most 16 KiB; anything else is a 4xx.
import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { UserFacingError } from './errors.ts';

const parser = bodyParser({
  enableTypes: ['form'],
  formLimit: '16kb',
  encoding: 'utf-8',
  onError: (error) => {
    const status = (error as { status?: number }).status;
    throw new UserFacingError(status === 413 ? 413 : 400, status === 413 ? 'errors.too_large' : 'errors.bad_request');
  },
});

export function formBody(): Middleware {
  return async (ctx, next) => {
    if (!ctx.is('application/x-www-form-urlencoded')) throw new UserFacingError(415, 'errors.bad_request');
    await parser(ctx, next);
  };
}

/** The posted form as strings; repeated fields keep the last value, nested values are dropped. */
export function readForm(ctx: Context): Record<string, string> {
  const body = (ctx.request as { body?: unknown }).body;
  const out: Record<string, string> = {};
  if (body && typeof body === 'object') {
    for (const [key, value] of Object.entries(body)) {
      const last = Array.isArray(value) ? value.at(-1) : value;
      if (typeof last === 'string') out[key] = last;
    }
  }
  return out;
}
