/**
 * Which IP addresses an http(s) source may point at. Pure functions: parse an address to bytes
 * and name the special-purpose range it falls in (or `undefined` for an ordinary public address).
 * IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the
 * IPv4 address inside them, so `::ffff:127.0.0.1` is loopback like `127.0.0.1`.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** `a.b.c.d` (the only IPv4 form dns.lookup and the URL parser produce) to four bytes. */
export function parseIPv4(address: string): Uint8Array | undefined {
  if (!isIPv4(address)) return undefined;
  return Uint8Array.from(address.split('.').map((p) => Number(p)));
}

/** Any textual IPv6 form (with `::`, an embedded dotted quad, brackets or a zone id) to 16 bytes. */
export function parseIPv6(address: string): Uint8Array | undefined {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (!isIPv6(a)) return undefined;
  const out = new Uint8Array(16);
  let tail: number[] = [];
  const lastColon = a.lastIndexOf(':');
  const dotted = a.slice(lastColon + 1);
  if (dotted.includes('.')) {
    const v4 = parseIPv4(dotted);
    if (!v4) return undefined;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    a = a.slice(0, lastColon + 1) + '0'; // placeholder group, replaced below
  }
  const halves = a.split('::');
  const parseGroups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!);
    const rest = parseGroups(halves[1]!);
    if (tail.length > 0) rest.pop();
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 0) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    groups = parseGroups(a);
    if (tail.length > 0) groups.pop();
    groups.push(...tail);
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff))
    return undefined;
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

function inPrefix(bytes: Uint8Array, prefix: readonly number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if (((bytes[byte] ?? 0) & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

type Range = readonly [prefix: readonly number[], bits: number, name: string];

const V4_RANGES: readonly Range[] = [
  [[0, 0, 0, 0], 8, 'unspecified ("this network")'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'shared address space (CGNAT)'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'IETF protocol assignments'],
  [[192, 0, 2, 0], 24, 'documentation'],
  [[192, 88, 99, 0], 24, '6to4 relay anycast'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'benchmarking'],
  [[198, 51, 100, 0], 24, 'documentation'],
  [[203, 0, 113, 0], 24, 'documentation'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved (and broadcast)'],
];

const V6_RANGES: readonly Range[] = [
  [[], 128, 'unspecified'],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, 'loopback'],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'discard-only'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0xfc], 7, 'unique-local'],
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'site-local (deprecated)'],
  [[0xff], 8, 'multicast'],
];

/** IPv4 address carried inside an IPv6 one, for the forms that route to that IPv4 address. */
function embeddedIPv4(b: Uint8Array): Uint8Array | undefined {
  const zeros = (from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, deprecated)
  if (zeros(0, 10) && ((b[10] === 0xff && b[11] === 0xff) || (b[10] === 0 && b[11] === 0))) {
    return b.slice(12, 16);
  }
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix) and 64:ff9b:1::/48 (local-use NAT64)
  if (inPrefix(b, [0x00, 0x64, 0xff, 0x9b], 32) && (zeros(4, 12) || (b[4] === 0 && b[5] === 1))) {
    return b.slice(12, 16);
  }
  // 2002:AABB:CCDD::/48 (6to4)
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6);
  return undefined;
}

/**
 * Names the special-purpose range an address is in (`'loopback'`, `'private'`, ...), or returns
 * `undefined` for an ordinary public unicast address. Text that is no IP address at all is
 * reported as `'not an IP address'`, so callers refuse it.
 */
export function refusedRange(address: string): string | undefined {
  const v4 = parseIPv4(address);
  if (v4) return V4_RANGES.find(([p, bits]) => inPrefix(v4, p, bits))?.[2];
  const v6 = parseIPv6(address);
  if (!v6) return 'not an IP address';
  const inner = embeddedIPv4(v6);
  // ::/128 and ::1/128 are themselves "compatible" forms; judge them as IPv6 first.
  const own = V6_RANGES.find(([p, bits]) => inPrefix(v6, p, bits))?.[2];
  if (own) return own;
  if (inner) {
    const r = V4_RANGES.find(([p, bits]) => inPrefix(inner, p, bits))?.[2];
    return r === undefined ? undefined : `${r} (IPv4 inside IPv6)`;
  }
  return undefined;
}
