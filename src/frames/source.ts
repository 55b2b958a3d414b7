/**
 * The source policy, in one place: which URIs are accepted, where local files may be read from,
 * which network addresses may be reached, and what ffmpeg is told to open. Every URI is
 * untrusted.
 *
 * - Local files (`file:///abs/path`, and plain paths resolved against the working directory):
 *   `localFiles` says where they may be read: `anywhere` (the command line), `media-root` (only
 *   under the media root's real path, symlinks resolved) or `refused` (a worker without a media
 *   root). `sourcePolicyFor` is the one place that picks the mode for a role. ffmpeg opens
 *   `file:<realpath>`, so no part of the name can be read as a protocol or an option.
 * - `http://` and `https://`: every address the host resolves to must pass the network policy
 *   (ip-policy.ts: public, or in `allowedNetworks`, or `allowPrivateNetworks`). ffmpeg opens the
 *   URL as the WHATWG parser normalised it; the pipeline then sends every connection ffmpeg
 *   makes through the policy proxy (proxy.ts), which checks redirects and HLS requests too.
 * - `rtsp://` and `rtsps://` (live streams, `resolveRtsp`): the host is resolved once, checked,
 *   and ffmpeg gets the address literal, so the connection goes where the check said.
 * - anything else: CLIPSTREAM_BAD_URI.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipstreamError } from '../errors.js';
import { addressRefusal, addressText, hostAddress, parseAddress, parseNetworks } from './ip-policy.js';
import type { IpAddress } from './ip-policy.js';

export interface LookupAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses. */
export type Lookup = (hostname: string) => Promise<LookupAddress[]>;

/** Where local files may be read from. */
export type LocalFiles = 'anywhere' | 'media-root' | 'refused';

export interface SourcePolicy {
  /**
   * Where local files may be read from. @defaultValue `'media-root'` when `mediaRoot` is set,
   * else `'anywhere'` (use `sourcePolicyFor` rather than relying on the default).
   */
  localFiles?: LocalFiles;
  /** The only folder local sources may be read from (after resolving symlinks). */
  mediaRoot?: string;
  /** Allow network sources on loopback, private, link-local and other special-purpose addresses. */
  allowPrivateNetworks: boolean;
  /** CIDRs let through although not public (`CLIPSTREAM_ALLOWED_NETWORKS`). @defaultValue [] */
  allowedNetworks?: readonly string[];
  /** Resolves a host name to all its addresses. @defaultValue `dns.promises.lookup(host, { all: true })` */
  lookup?: Lookup;
  /**
   * Let RTSP sources carry RTP over UDP when a stream asks for it (`CLIPSTREAM_RTSP_UDP`). Off
   * by default: over UDP the RTSP server names the address ffmpeg sends RTP/RTCP packets to (the
   * `source=` of its SETUP reply), which this policy cannot check. @defaultValue false
   */
  allowRtspUdp?: boolean;
}

/** How RTP travels for an rtsp(s) source: interleaved in the RTSP connection, or over UDP. */
export type RtspTransport = 'tcp' | 'udp';

export interface ResolvedSource {
  /** The URI as given. */
  uri: string;
  /** What ffmpeg opens: `file:/real/path`, a normalised `http(s)://` URL, or `rtsp(s)://ADDRESS...`. */
  input: string;
  kind: 'file' | 'http' | 'rtsp';
  /** File size in bytes (files only). */
  sizeBytes?: number;
  /** http(s): the policy proxy ffmpeg must send every request through (`-http_proxy`). */
  proxy?: string;
  /** rtsp(s): the RTP transport. @defaultValue 'tcp' */
  rtspTransport?: RtspTransport;
}

/** Settings a role's policy is made from (the process configuration). */
export interface PolicySettings {
  mediaRoot?: string | undefined;
  allowPrivateNetworks: boolean;
  allowedNetworks?: readonly string[] | undefined;
  allowRtspUdp?: boolean | undefined;
}

/**
 * The media-root rule: the command line (`run`) reads local files anywhere unless a media root
 * is set; a worker takes URIs from strangers and reads local files only under its media root,
 * and none at all without one.
 */
export function sourcePolicyFor(role: 'cli' | 'worker', s: PolicySettings): SourcePolicy {
  const localFiles: LocalFiles = s.mediaRoot ? 'media-root' : role === 'cli' ? 'anywhere' : 'refused';
  return Object.freeze({
    localFiles,
    ...(s.mediaRoot ? { mediaRoot: s.mediaRoot } : {}),
    allowPrivateNetworks: s.allowPrivateNetworks,
    allowedNetworks: Object.freeze([...(s.allowedNetworks ?? [])]),
    allowRtspUdp: s.allowRtspUdp === true,
  });
}

function localMode(policy: SourcePolicy): LocalFiles {
  const mode = policy.localFiles ?? (policy.mediaRoot !== undefined ? 'media-root' : 'anywhere');
  // 'media-root' without a root can only mean "nowhere".
  return mode === 'media-root' && policy.mediaRoot === undefined ? 'refused' : mode;
}

/** Start-up check of a policy: a media root that is a readable folder, well-formed networks. */
export async function checkSourcePolicy(policy: SourcePolicy): Promise<void> {
  parseNetworks(policy.allowedNetworks ?? []);
  if (localMode(policy) !== 'media-root') return;
  const root = policy.mediaRoot;
  try {
    if (root === undefined || !(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_CONFIG',
      `CLIPSTREAM_MEDIA_ROOT ${root} is not a readable folder`,
      {
        cause: err,
      },
    );
  }
}

const MAX_URI_LENGTH = 8192;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

function badUri(message: string, cause?: unknown): ClipstreamError {
  return new ClipstreamError('CLIPSTREAM_BAD_URI', message, cause === undefined ? undefined : { cause });
}

/** The system resolver (getaddrinfo), every address, in its order. */
export const defaultLookup: Lookup = async (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** What a URI is, by its scheme: a local file, an http(s) URL or an rtsp(s) URL. */
export type SourceScheme = 'file' | 'http' | 'rtsp';

/**
 * The cheap checks, without touching the file system or the network: length, NUL, scheme, and
 * whether local files are refused outright. Throws CLIPSTREAM_BAD_URI or CLIPSTREAM_URI_REFUSED.
 */
export function checkUri(uri: string, policy: SourcePolicy): SourceScheme {
  if (typeof uri !== 'string' || uri.length === 0) throw badUri('empty source URI');
  if (uri.length > MAX_URI_LENGTH) throw badUri(`source URI longer than ${MAX_URI_LENGTH} characters`);
  if (uri.includes('\0')) throw badUri('source URI contains a NUL character');
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') {
    if (localMode(policy) === 'refused') {
      throw new ClipstreamError(
        'CLIPSTREAM_URI_REFUSED',
        'local files are refused: the worker has no media root (CLIPSTREAM_MEDIA_ROOT)',
      );
    }
    return 'file';
  }
  if (scheme === 'http' || scheme === 'https') return 'http';
  if (scheme === 'rtsp' || scheme === 'rtsps') return 'rtsp';
  throw badUri(`unsupported URI scheme '${scheme}:' (use file://, http:// or https://)`);
}

/** Checks a (finite) source URI against the policy and says what ffmpeg should open. */
export async function resolveSource(uri: string, policy: SourcePolicy): Promise<ResolvedSource> {
  const kind = checkUri(uri, policy);
  if (kind === 'rtsp') throw badUri('rtsp:// sources are live streams, not videos (see design.md 3.6)');
  if (kind === 'http') return resolveHttp(uri, policy);
  if (SCHEME.test(uri)) {
    let path: string;
    try {
      path = fileURLToPath(new URL(uri));
    } catch (err) {
      throw badUri(`not a valid local file URI: ${(err as Error).message}`, err);
    }
    return resolveFile(uri, path, policy);
  }
  return resolveFile(uri, resolve(uri), policy);
}

async function resolveFile(uri: string, path: string, policy: SourcePolicy): Promise<ResolvedSource> {
  const root = localMode(policy) === 'media-root' ? policy.mediaRoot : undefined;
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // Do not reveal whether paths outside the media root exist.
      if (root !== undefined && !(await isUnder(root, await realpathLoose(path)))) {
        throw refusedPath(uri);
      }
      throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `no such file: ${uri}`, { cause: err });
    }
    if (code === 'ERR_INVALID_ARG_VALUE' || code === 'ENAMETOOLONG')
      throw badUri(`not a valid path: ${uri}`, err);
    throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `cannot read ${uri}: ${code ?? String(err)}`, {
      cause: err,
    });
  }
  if (root !== undefined && !(await isUnder(root, real))) throw refusedPath(uri);
  const st = await stat(real);
  if (!st.isFile()) {
    throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `not a regular file: ${uri}`);
  }
  return { uri, input: `file:${real}`, kind: 'file', sizeBytes: st.size };
}

/** realpath of the nearest existing ancestor, with the missing tail appended. */
async function realpathLoose(path: string): Promise<string> {
  const abs = resolve(path);
  const parent = dirname(abs);
  if (parent === abs) return abs;
  try {
    return join(await realpath(parent), basename(abs));
  } catch {
    return join(await realpathLoose(parent), basename(abs));
  }
}

function refusedPath(uri: string): ClipstreamError {
  return new ClipstreamError('CLIPSTREAM_URI_REFUSED', `source is outside the media root: ${uri}`);
}

/** True when `candidate` (already real, or a path that does not exist) lies strictly inside root. */
async function isUnder(root: string, candidate: string): Promise<boolean> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', `media root ${root} cannot be read`, { cause: err });
  }
  const rel = relative(realRoot, candidate);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function parseUrl(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (err) {
    throw badUri(`not a valid URL: ${uri}`, err);
  }
  if (url.hostname === '') throw badUri(`URL has no host: ${uri}`);
  url.hash = '';
  return url;
}

/**
 * Resolves a host (a name or an address literal in any spelling) and checks every address it
 * resolves to; returns them all, or throws CLIPSTREAM_URI_REFUSED naming the first refused one.
 * A name is asked of `lookup` exactly once per call; an address literal is never looked up.
 */
export async function resolveHost(host: string, policy: SourcePolicy): Promise<IpAddress[]> {
  const literal = hostAddress(host);
  let addresses: IpAddress[];
  if (literal !== undefined) {
    addresses = [literal];
  } else {
    let answer: LookupAddress[];
    try {
      answer = await (policy.lookup ?? defaultLookup)(host.toLowerCase());
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') {
        throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `host not found: ${host}`, { cause: err });
      }
      throw new ClipstreamError(
        'CLIPSTREAM_SOURCE_UNAVAILABLE',
        `cannot resolve ${host}: ${code ?? String(err)}`,
        {
          cause: err,
        },
      );
    }
    addresses = [];
    for (const a of answer) {
      const ip = parseAddress(a.address);
      if (ip === undefined) {
        throw new ClipstreamError(
          'CLIPSTREAM_URI_REFUSED',
          `host ${host} resolves to '${a.address}', not an IP address`,
        );
      }
      addresses.push(ip);
    }
    if (addresses.length === 0)
      throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `host not found: ${host}`);
  }
  for (const ip of addresses) {
    const reason = addressRefusal(ip, policy);
    if (reason !== undefined) {
      const shown = addressText(ip);
      throw new ClipstreamError(
        'CLIPSTREAM_URI_REFUSED',
        literal !== undefined
          ? `address ${shown} refused (${reason})`
          : `host ${host} resolves to ${shown} (${reason})`,
      );
    }
  }
  return addresses;
}

async function resolveHttp(uri: string, policy: SourcePolicy): Promise<ResolvedSource> {
  const url = parseUrl(uri);
  await resolveHost(url.hostname, policy);
  return { uri, input: url.href, kind: 'http' };
}

/**
 * An rtsp(s) URL: RTSP cannot go through an HTTP proxy, so the host is resolved once, checked,
 * and ffmpeg is given the first checked address as a literal (user, port, path and query kept).
 * RTSP carries the request URL instead of a Host header, so the server sees the address it was
 * reached at; rtsps does not verify certificates in ffmpeg 5.1 (tls_verify=0), so no name is lost.
 */
export async function resolveRtsp(
  uri: string,
  policy: SourcePolicy,
  transport: RtspTransport = 'tcp',
): Promise<ResolvedSource> {
  if (checkUri(uri, policy) !== 'rtsp') throw badUri(`not an rtsp:// or rtsps:// URL: ${uri.slice(0, 200)}`);
  if (transport === 'udp' && policy.allowRtspUdp !== true) {
    throw new ClipstreamError(
      'CLIPSTREAM_URI_REFUSED',
      'RTSP over UDP is off (CLIPSTREAM_RTSP_UDP=true turns it on): over UDP the server chooses where packets go',
    );
  }
  const url = parseUrl(uri);
  if (transport === 'udp' && url.protocol === 'rtsps:')
    throw badUri('rtsps carries RTP inside its TLS connection only: use rtspTransport tcp');
  const [first] = await resolveHost(url.hostname, policy);
  const literal = first!.kind() === 'ipv6' ? `[${addressText(first!)}]` : addressText(first!);
  const auth = url.username !== '' ? `${url.username}${url.password !== '' ? `:${url.password}` : ''}@` : '';
  const port = url.port !== '' ? `:${url.port}` : '';
  return {
    uri,
    input: `${url.protocol}//${auth}${literal}${port}${url.pathname}${url.search}`,
    kind: 'rtsp',
    ...(transport === 'udp' ? { rtspTransport: 'udp' as const } : {}),
  };
}
