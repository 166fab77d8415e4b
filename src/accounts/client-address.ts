// Per-IP limits count clients, not addresses. An IPv6 subscriber holds at least a /64 (one LAN is
// a /64; providers hand end sites a /56 or /48), so whoever sprays guesses from IPv6 has 2^64
// addresses for free: keyed by the full address, the per-IP limit would not exist for them. So an
// IPv6 address counts by its /64, and an IPv4-mapped one (`::ffff:192.0.2.7`, what a dual-stack
// socket reports for an IPv4 client) as the IPv4 address it is. Every per-IP limit keys by this.
import { isIPv4, isIPv6 } from 'node:net';

/** The eight 16-bit groups of a valid IPv6 address (zone id dropped, embedded IPv4 expanded). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const tail: number[] = [];
  const embedded = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (embedded) {
    const [a, b, c, d] = embedded.slice(1).map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, embedded.index);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = rest === undefined
    ? parse(head)
    : [...parse(head), ...new Array<number>(8 - tail.length - parse(head).length - parse(rest).length).fill(0), ...parse(rest)];
  return [...groups, ...tail];
}

/** The client a per-IP limit counts: an IPv4 address, or an IPv6 address's /64 (`2001:db8:1:2::/64`). */
export function clientAddressKey(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip.split('%')[0]!)) return ip;
  const groups = ipv6Groups(ip);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
