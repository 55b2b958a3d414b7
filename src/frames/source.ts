/**
 * Source URIs: which ones we accept and what ffmpeg is told to open. Every URI is untrusted.
 *
 * - `file:///abs/path` and plain paths (resolved against the working directory): the real path
 *   (symlinks resolved) must be a regular file and, when a media root is set, lie under the
 *   media root's real path. ffmpeg opens `file:<realpath>`, so no part of the name can be read
 *   as a protocol or an option.
 * - `http://` and `https://`: every address the host resolves to must be public unless private
 *   networks are allowed. ffmpeg opens the URL as the WHATWG parser normalised it, so both
 *   sides agree on the host (numeric forms such as `http://2130706433/` become `127.0.0.1`).
 * - anything else: CLIPSTREAM_BAD_URI.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipstreamError } from '../errors.js';
import { parseIPv4, parseIPv6, refusedRange } from './ip-policy.js';

export interface LookupAddress {
  address: string;
  family: number;
}

export interface SourcePolicy {
  /** The only folder local sources may be read from (after resolving symlinks). Unset: anywhere. */
  mediaRoot?: string;
  /** Allow http(s) hosts on loopback, private, link-local and other special-purpose addresses. */
  allowPrivateNetworks: boolean;
  /** Resolves a host name to all its addresses. @defaultValue `dns.promises.lookup(host, { all: true })` */
  lookup?: (hostname: string) => Promise<LookupAddress[]>;
}

export interface ResolvedSource {
  /** The URI as given. */
  uri: string;
  /** What ffmpeg opens: `file:/real/path` or a normalised `http(s)://` URL. */
  input: string;
  kind: 'file' | 'http';
  /** File size in bytes (files only). */
  sizeBytes?: number;
}

const MAX_URI_LENGTH = 8192;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

function badUri(message: string, cause?: unknown): ClipstreamError {
  return new ClipstreamError('CLIPSTREAM_BAD_URI', message, cause === undefined ? undefined : { cause });
}

const defaultLookup = async (hostname: string): Promise<LookupAddress[]> =>
  dnsLookup(hostname, { all: true, verbatim: true });

/** Checks a source URI against the policy and says what ffmpeg should open. */
export async function resolveSource(uri: string, policy: SourcePolicy): Promise<ResolvedSource> {
  if (typeof uri !== 'string' || uri.length === 0) throw badUri('empty source URI');
  if (uri.length > MAX_URI_LENGTH) throw badUri(`source URI longer than ${MAX_URI_LENGTH} characters`);
  if (uri.includes('\0')) throw badUri('source URI contains a NUL character');
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return resolveFile(uri, resolve(uri), policy);
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(new URL(uri));
    } catch (err) {
      throw badUri(`not a valid local file URI: ${(err as Error).message}`, err);
    }
    return resolveFile(uri, path, policy);
  }
  if (scheme === 'http' || scheme === 'https') return resolveHttp(uri, policy);
  throw badUri(`unsupported URI scheme '${scheme}:' (use file://, http:// or https://)`);
}

async function resolveFile(uri: string, path: string, policy: SourcePolicy): Promise<ResolvedSource> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // Do not reveal whether paths outside the media root exist.
      if (policy.mediaRoot !== undefined && !(await isUnder(policy.mediaRoot, await realpathLoose(path)))) {
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
  if (policy.mediaRoot !== undefined && !(await isUnder(policy.mediaRoot, real))) throw refusedPath(uri);
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

async function resolveHttp(uri: string, policy: SourcePolicy): Promise<ResolvedSource> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (err) {
    throw badUri(`not a valid URL: ${uri}`, err);
  }
  if (url.hostname === '') throw badUri(`URL has no host: ${uri}`);
  url.hash = '';
  const source: ResolvedSource = { uri, input: url.href, kind: 'http' };
  if (policy.allowPrivateNetworks) return source;

  const host = url.hostname;
  let addresses: string[];
  if (parseIPv4(host) !== undefined || (host.startsWith('[') && parseIPv6(host) !== undefined)) {
    addresses = [host];
  } else {
    try {
      addresses = (await (policy.lookup ?? defaultLookup)(host)).map((a) => a.address);
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
    if (addresses.length === 0) {
      throw new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', `host not found: ${host}`);
    }
  }
  for (const address of addresses) {
    const range = refusedRange(address);
    if (range !== undefined) {
      throw new ClipstreamError(
        'CLIPSTREAM_URI_REFUSED',
        `host ${host} resolves to ${address} (${range}); private networks are not allowed`,
      );
    }
  }
  return source;
}
