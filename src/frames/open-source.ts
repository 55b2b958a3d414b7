/**
 * Opening a source for one video: the policy check, and for http(s) a policy-proxy session that
 * every ffprobe and ffmpeg request of the video goes through. The caller probes and decodes the
 * returned source, prefers `policyError()` over whatever ffmpeg reported (ffmpeg only saw a
 * 403), and closes it when the video is done.
 */
import type { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseLimits } from './options.js';
import type { MediaLimits } from './options.js';
import { PolicyProxy } from './proxy.js';
import type { ProxySession } from './proxy.js';
import { checkUri, resolveSource } from './source.js';
import type { ResolvedSource, SourcePolicy } from './source.js';

export interface OpenSourceOptions {
  /** Names the video in the proxy's log lines and errors. */
  readonly videoId: string;
  readonly log: Logger;
  /** The process's proxy (the worker's, or `run`'s); without one a proxy is made for this video. */
  readonly proxy?: PolicyProxy;
  readonly limits?: Partial<MediaLimits>;
  /** Called at once with the first refused connection or spent budget (to abort the video). */
  readonly onPolicyError?: (err: ClipstreamError) => void;
}

export interface OpenedSource {
  readonly source: ResolvedSource;
  /** The proxy's own record of the video's first refusal or spent budget, if any. */
  policyError(): ClipstreamError | undefined;
  /** Idempotent: ends the video's proxy session (and a proxy made for it). */
  close(): Promise<void>;
}

/** Checks `uri` against the policy and, for http(s), starts the video's proxy session. */
export async function openSource(
  uri: string,
  policy: SourcePolicy,
  opts: OpenSourceOptions,
): Promise<OpenedSource> {
  if (checkUri(uri, policy) !== 'http') {
    const source = await resolveSource(uri, policy);
    return { source, policyError: () => undefined, close: async () => undefined };
  }
  const limits = parseLimits(opts.limits);
  const own = opts.proxy === undefined ? new PolicyProxy(opts.log) : undefined;
  const proxy = opts.proxy ?? own!;
  let session: ProxySession | undefined;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await session?.close();
      await own?.close();
    })();
    return closing;
  };
  try {
    session = await proxy.open({
      videoId: opts.videoId,
      policy,
      budgets: {
        maxBytes: limits.networkMaxBytes,
        maxMs: limits.networkMaxMs,
        connectTimeoutMs: limits.networkTimeoutMs,
      },
      ...(opts.onPolicyError ? { onError: opts.onPolicyError } : {}),
    });
    // The session's policy shares its DNS answers with the proxy: each host is asked once.
    const source = await resolveSource(uri, session.policy);
    const s = session;
    return { source: { ...source, proxy: s.url }, policyError: () => s.error, close };
  } catch (err) {
    await close();
    throw err;
  }
}
