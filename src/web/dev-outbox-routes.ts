// Development only: the mails, SMS and calls that would have been sent, at /dev/outbox.
// main.ts never mounts it in production (config refuses DEV_OUTBOX there).
import Router from '@koa/router';
import type { DevOutbox } from '../delivery/dev-outbox.ts';
import { render } from './render.ts';

export function devOutboxRoutes(outbox: DevOutbox): Router {
  const router = new Router();
  router.get('/dev/outbox', (ctx) => {
    render(ctx, 'dev/outbox', { messages: [...outbox.list()].reverse() });
  });
  router.get('/dev/outbox.json', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = outbox.list();
  });
  return router;
}
