/**
 * IP addresses and CIDR blocks for `IpAddress` / `NotIpAddress` and for deciding whether an
 * `aws:SourceIp` range is narrow enough to make a policy non-public.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  family: 4 | 6;
  value: bigint;
}

export interface Cidr {
  family: 4 | 6;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
}

/**
 * An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, which Node reports
 * for IPv4 clients of a dual-stack socket) is taken as the IPv4 address it carries, so IPv4
 * blocks in a policy match it.
 *
 * @example
 * parseIp('::ffff:192.0.2.1'); // { family: 4, value: 3221225985n }
 */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  const value = ipv6Value(text);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/**
 * A CIDR block as policies write them: `203.0.113.0/24`, `2001:db8::/32`, or a bare address
 * (a /32 or /128). Host bits may be set (`2001:4860:4860::8888/32`, as AWS's own examples
 * write); they are ignored.
 */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 4 : isIPv6(address) && !address.includes('%') ? 6 : undefined;
  if (family === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const digits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(digits)) return undefined;
    prefix = Number(digits);
    if (prefix > bits) return undefined;
  }
  const value = family === 4 ? ipv4Value(address) : ipv6Value(address);
  return { family, network: value & mask(bits, prefix), prefix };
}

/** Whether `ip` lies in `cidr`. */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const bits = cidr.family === 4 ? 32 : 128;
  return (ip.value & mask(bits, cidr.prefix)) === cidr.network;
}

function mask(bits: number, prefix: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return all ^ ((1n << BigInt(bits - prefix)) - 1n);
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

/** The 128-bit value of a valid IPv6 address (node:net has checked the syntax). */
function ipv6Value(text: string): bigint {
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v = Number(ipv4Value(piece));
        out.push(v >>> 16, v & 0xffff);
      } else {
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const first = groups(head);
  const last = groups(tail);
  const all = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}
