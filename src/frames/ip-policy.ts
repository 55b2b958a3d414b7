/**
 * Which IP addresses a network source may reach. Address parsing and the special-purpose range
 * tables come from ipaddr.js (hand-parsed IPv6 is security code we do not keep ourselves); what
 * is here is the policy on top of them:
 *
 * - an ordinary public unicast address is allowed;
 * - an address in one of the operator's `allowedNetworks` (CIDRs) is allowed;
 * - `allowPrivateNetworks` allows everything;
 * - anything else (loopback, private, link-local, unspecified, multicast, reserved, ...) is
 *   refused, with the range's name as the reason.
 *
 * IPv6 forms that carry an IPv4 address and route to it (IPv4-mapped, IPv4-compatible, NAT64,
 * 6to4, SIIT) are judged by the IPv4 address inside them, so `::ffff:127.0.0.1` is loopback like
 * `127.0.0.1`, and `::ffff:127.0.0.2` is inside an allowed `127.0.0.2/32`. Teredo hides its
 * IPv4 addresses and is refused outright.
 */
import ipaddr from 'ipaddr.js';
import type { IPv4, IPv6 } from 'ipaddr.js';
import { ClipstreamError } from '../errors.js';

export type IpAddress = IPv4 | IPv6;

/** What the network policy needs to know (from SourcePolicy). */
export interface NetworkPolicy {
  /** Allow every address, private or not. */
  readonly allowPrivateNetworks: boolean;
  /** CIDRs (`10.20.0.0/16`, `fd00::/8`, `127.0.0.2/32`) let through although not public. */
  readonly allowedNetworks?: readonly string[];
}

/** Readable names of ipaddr.js's range labels. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'shared address space (CGNAT)',
  private: 'private',
  reserved: 'reserved or documentation',
  as112: 'AS112 anycast',
  amt: 'AMT anycast',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local (deprecated)',
  discard: 'discard-only',
  teredo: 'Teredo tunnel',
  benchmarking: 'benchmarking',
  as112v6: 'AS112 anycast',
  deprecatedOrchid: 'ORCHID (deprecated)',
  orchid2: 'ORCHIDv2',
  droneRemoteIdProtocolEntityTags: 'drone remote ID',
  segmentRouting: 'segment routing',
};

function stripBrackets(text: string): string {
  let a = text;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  return zone >= 0 ? a.slice(0, zone) : a;
}

/**
 * An address in one of the forms resolvers and the URL parser produce: dotted-quad IPv4 or any
 * textual IPv6 (brackets and a zone id allowed). Non-canonical IPv4 spellings (`127.1`,
 * `0x7f.0.0.1`, `2130706433`) are not addresses here: `hostAddress` normalises host text first.
 */
export function parseAddress(text: string): IpAddress | undefined {
  const a = stripBrackets(text);
  if (ipaddr.IPv4.isValidFourPartDecimal(a)) return ipaddr.IPv4.parse(a);
  if (ipaddr.IPv6.isValid(a)) return ipaddr.IPv6.parse(a);
  return undefined;
}

/** Any textual IPv6 form to its 16 bytes (undefined when it is not one). */
export function parseIPv6(text: string): Uint8Array | undefined {
  const a = stripBrackets(text);
  return ipaddr.IPv6.isValid(a) ? Uint8Array.from(ipaddr.IPv6.parse(a).toByteArray()) : undefined;
}

/**
 * The address a URL host names literally, normalised the way the WHATWG URL parser (and
 * glibc's inet_aton) read it: `2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1` all become
 * `127.0.0.1`, `[::ffff:7f00:1]` becomes `::ffff:7f00:1`. Undefined for a host name.
 */
export function hostAddress(host: string): IpAddress | undefined {
  if (host === '' || /[/?#@\s\\]/.test(host)) return undefined;
  let normal: string;
  try {
    normal = new URL(`http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}/`).hostname;
  } catch {
    return undefined;
  }
  return parseAddress(normal);
}

/** The IPv4 address an IPv6 one routes to, for the forms that carry one. */
function embeddedIPv4(v6: IPv6): IPv4 | undefined {
  const range = v6.range();
  const b = v6.toByteArray();
  const last4 = (): IPv4 => new ipaddr.IPv4(b.slice(12, 16));
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return last4();
  if (range === '6to4') return new ipaddr.IPv4(b.slice(2, 6));
  // ::a.b.c.d (IPv4-compatible, deprecated) and the unspecified/loopback forms, judged as IPv6 below
  if (b.slice(0, 12).every((x) => x === 0) && range !== 'unspecified' && range !== 'loopback') return last4();
  return undefined;
}

/**
 * Names the special-purpose range an address is in (`'loopback'`, `'private'`, ...), or
 * returns `undefined` for an ordinary public unicast address. Text that is no IP address at all
 * is reported as `'not an IP address'`, so callers refuse it.
 */
export function refusedRange(address: string | IpAddress): string | undefined {
  const ip = typeof address === 'string' ? parseAddress(address) : address;
  if (ip === undefined) return 'not an IP address';
  if (ip.kind() === 'ipv4') {
    const r = ip.range();
    return r === 'unicast' ? undefined : (RANGE_NAMES[r] ?? r);
  }
  const v6 = ip as IPv6;
  const inner = embeddedIPv4(v6);
  if (inner !== undefined) {
    const r = refusedRange(inner);
    return r === undefined ? undefined : `${r} (IPv4 inside IPv6)`;
  }
  const r = v6.range();
  return r === 'unicast' ? undefined : (RANGE_NAMES[r] ?? r);
}

/** Parses an allowed-networks list (CIDRs); throws CLIPSTREAM_BAD_CONFIG naming a bad entry. */
export function parseNetworks(cidrs: readonly string[]): Array<[IpAddress, number]> {
  return cidrs.map((c) => {
    try {
      return ipaddr.parseCIDR(c.trim());
    } catch (err) {
      throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `not a CIDR network: '${c}' (e.g. 10.20.0.0/16)`, {
        cause: err,
      });
    }
  });
}

function inNetworks(ip: IpAddress, nets: ReadonlyArray<[IpAddress, number]>): boolean {
  const v4 = ip.kind() === 'ipv6' ? embeddedIPv4(ip as IPv6) : undefined;
  return nets.some(([net, bits]) => {
    if (net.kind() === ip.kind()) return ip.match(net, bits);
    return v4 !== undefined && net.kind() === 'ipv4' && v4.match(net, bits);
  });
}

/**
 * Why the policy refuses an address, or undefined when it may be reached. The reason names the
 * range, e.g. `loopback; private networks are not allowed`.
 */
export function addressRefusal(address: string | IpAddress, policy: NetworkPolicy): string | undefined {
  const ip = typeof address === 'string' ? parseAddress(address) : address;
  if (ip === undefined) return 'not an IP address';
  if (policy.allowPrivateNetworks) return undefined;
  const range = refusedRange(ip);
  if (range === undefined) return undefined;
  if (inNetworks(ip, parseNetworks(policy.allowedNetworks ?? []))) return undefined;
  return `${range}; not a public address and not in CLIPSTREAM_ALLOWED_NETWORKS`;
}

/** Canonical text of an address (IPv4 dotted quad, IPv6 RFC 5952), as it goes on the wire. */
export function addressText(ip: IpAddress): string {
  return ip.toString();
}
