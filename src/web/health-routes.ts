// /healthz says the process is up (restart it if not). /readyz says whether to send it traffic:
// the store takes writes and reads, its schema is current, the signing keys are loaded, and the
// process is not shutting down. A failing check is named in the JSON body with a coarse reason
// (e.g. `{"store":{"ok":false,"reason":"full"}}`), never an internal message.
import Router from '@koa/router';
import type { StoreHealth } from '../store/health-probe.ts';

export interface HealthSources {
  probeStore(): Promise<StoreHealth>;
  keysLoaded(): boolean;
  draining(): boolean;
}

export function healthRoutes(sources: HealthSources): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const { store, migrations } = await sources.probeStore();
    const checks = { store, migrations, keys: { ok: sources.keysLoaded() }, shutdown: { ok: !sources.draining() } };
    const ready = Object.values(checks).every((check) => check.ok);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
  });
  return router;
}
