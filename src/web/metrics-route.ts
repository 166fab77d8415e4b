// GET /metrics: the Prometheus exposition. What it shows (login counts per portal, error rates)
// is no secret of a patient, but it maps the service for an attacker, so it is never open to the
// world: METRICS_TOKEN asks for `Authorization: Bearer <token>`, METRICS_ALLOW for a connection
// from a listed address; with both, both. Production refuses to start with neither (config.ts);
// elsewhere, without either, only loopback connections are answered.
//
// The address is the connection's own, never X-Forwarded-For, and a request relayed by a proxy
// (it carries X-Forwarded-For or Forwarded) is refused by the address rule: the proxy's address
// says nothing about who is behind it. Scrape the processes directly, or use the token.
import Router from '@koa/router';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import type { Config } from '../config.ts';
import { parseProxyAddresses } from '../config.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { BlockList } from 'node:net';
import { peerIn } from './proxy-peers.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

function loopbackList(): BlockList {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  return list;
}

export type MetricsAccess = 'allowed' | 'no-token' | 'address';

/** Decides one request; exported for the tests of each rule. */
export function metricsAccess(config: Pick<Config, 'metrics'>): (ctx: Pick<Context, 'get'> & { req: { socket: { remoteAddress?: string } } }) => MetricsAccess {
  const { token, allow } = config.metrics;
  const expected = token === undefined ? undefined : digest(token);
  const listed = allow.length ? parseProxyAddresses(allow).list : undefined;
  // Without either setting (development, test): this machine only.
  const addresses = listed ?? (expected ? undefined : loopbackList());
  return (ctx) => {
    if (expected) {
      const match = /^Bearer ([^\s]+)$/i.exec(ctx.get('Authorization'));
      // Compared as digests: equal lengths for timingSafeEqual, and no timing on the token's length.
      if (!match || !timingSafeEqual(digest(match[1]!), expected)) return 'no-token';
    }
    if (addresses) {
      const relayed = ctx.get('X-Forwarded-For') !== '' || ctx.get('Forwarded') !== '';
      if (relayed || !peerIn(addresses, ctx.req.socket.remoteAddress)) return 'address';
    }
    return 'allowed';
  };
}

export function metricsRoute(metrics: Metrics, config: Pick<Config, 'metrics'>): Router {
  const access = metricsAccess(config);
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const verdict = access(ctx);
    if (verdict === 'no-token') {
      ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
      ctx.status = 401;
      ctx.body = { error: 'unauthorized' };
      return;
    }
    if (verdict === 'address') {
      ctx.status = 403;
      ctx.body = { error: 'forbidden' };
      return;
    }
    ctx.body = await metrics.exposition();
    ctx.set('Content-Type', metrics.contentType);
  });
  return router;
}
