// TRUST_PROXY makes Koa believe X-Forwarded-For/-Proto/-Host. With TRUST_PROXY_ADDRESSES set,
// only connections from those proxies may say so: from any other peer the headers are removed
// before anything reads them, so the socket's own address and protocol count (a client that
// reaches the app around the proxy cannot claim another IP for the per-IP limits and the audit
// trail, or HTTPS for the cookies).
import { isIP, type BlockList } from 'node:net';
import type { Middleware } from 'koa';

const FORWARDED_HEADERS = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded'];

/** `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) is 10.1.2.3. */
function peerAddress(remote: string | undefined): { address: string; type: 'ipv4' | 'ipv6' } | undefined {
  if (!remote) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote)?.[1];
  if (mapped) return { address: mapped, type: 'ipv4' };
  const family = isIP(remote);
  return family === 0 ? undefined : { address: remote, type: family === 6 ? 'ipv6' : 'ipv4' };
}

/** Whether `remote` (a socket's address) is in `list`. */
export function peerIn(list: BlockList, remote: string | undefined): boolean {
  const peer = peerAddress(remote);
  return peer !== undefined && list.check(peer.address, peer.type);
}

/**
 * Whether a connection comes from a proxy we trust to speak for the client (X-Forwarded-*,
 * X-Request-Id): any peer with TRUST_PROXY alone, only the listed ones with TRUST_PROXY_ADDRESSES.
 */
export function isTrustedProxy(trustProxy: boolean, list: BlockList | undefined, remote: string | undefined): boolean {
  if (!trustProxy) return false;
  return list === undefined || peerIn(list, remote);
}

export function onlyTrustedProxies(list: BlockList): Middleware {
  return (ctx, next) => {
    if (!peerIn(list, ctx.req.socket.remoteAddress)) {
      for (const header of FORWARDED_HEADERS) delete ctx.req.headers[header];
    }
    return next();
  };
}
