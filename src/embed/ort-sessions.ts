/**
 * ONNX Runtime sessions of one model pack: opened on the requested execution provider (CUDA
 * falls back to CPU under `auto`), checked against the contract, and run. This code runs inside
 * a lane's inference process (inference-worker.ts): onnxruntime-node's `run()` computes on the
 * calling thread, so in the main process it would stall the event loop (ffmpeg pipes, Kafka
 * heartbeats, health probes) for the length of every batch.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ClipstreamError } from '../errors.js';
import { checkContract } from './contract.js';
import type { Manifest } from './manifest.js';
import type { Provider, RuntimeOptions } from './runtime-options.js';

export interface PackFiles {
  readonly image: string;
  /** absent: an image-only lane (sessions.ts) */
  readonly text?: string | undefined;
}

export interface OpenSessions {
  readonly image: ort.InferenceSession;
  /** absent in an image-only lane */
  readonly text?: ort.InferenceSession;
  readonly provider: Provider;
  /** why CUDA was not used under `auto`, and how loudly to say so */
  readonly fallback?: { reason: string; level: 'info' | 'warn' };
}

function sessionOptions(provider: Provider, opts: RuntimeOptions): ort.InferenceSession.SessionOptions {
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    provider === 'cuda' ? [{ name: 'cuda', deviceId: opts.cudaDeviceId }] : ['cpu'];
  return {
    executionProviders,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(opts.intraOpThreads > 0 ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: opts.allowSpinning === true ? '1' : '0' } } },
  };
}

/**
 * Why CUDA cannot be tried, or undefined when it can. onnxruntime-node is compiled with the CUDA
 * provider on Linux x64, but its provider libraries are only present when the package was
 * installed with `ONNXRUNTIME_NODE_INSTALL=cuda12` (the container image does; `.npmrc` skips it
 * elsewhere). Checking first avoids a native error dump for the common CPU-only case.
 */
export function cudaUnavailableReason(): string | undefined {
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) {
    return `this onnxruntime-node build has no CUDA provider on ${process.platform}/${process.arch}`;
  }
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const lib = join(
      dirname(entry),
      '..',
      'bin',
      'napi-v6',
      process.platform,
      process.arch,
      'libonnxruntime_providers_cuda.so',
    );
    if (!existsSync(lib)) {
      return 'the CUDA provider libraries of onnxruntime-node are not installed (install with ONNXRUNTIME_NODE_INSTALL=cuda12)';
    }
  } catch {
    // Unusual layout: let session creation decide.
  }
  return undefined;
}

async function openPair(
  files: PackFiles,
  provider: Provider,
  opts: RuntimeOptions,
): Promise<[ort.InferenceSession, ort.InferenceSession | undefined]> {
  const image = await ort.InferenceSession.create(files.image, sessionOptions(provider, opts));
  if (files.text === undefined) return [image, undefined];
  try {
    return [image, await ort.InferenceSession.create(files.text, sessionOptions(provider, opts))];
  } catch (err) {
    await image.release().catch(() => undefined);
    throw err;
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

export async function openSessions(
  manifest: Manifest,
  files: PackFiles,
  opts: RuntimeOptions,
): Promise<OpenSessions> {
  let pair: [ort.InferenceSession, ort.InferenceSession | undefined] | undefined;
  let fallback: OpenSessions['fallback'];
  if (opts.device !== 'cpu') {
    const missing = cudaUnavailableReason();
    try {
      if (missing) throw new Error(missing);
      pair = await openPair(files, 'cuda', opts);
    } catch (err) {
      if (opts.device === 'cuda') {
        throw new ClipstreamError(
          'CLIPSTREAM_DEVICE_UNAVAILABLE',
          `CUDA execution provider unavailable: ${firstLine(err)}`,
          {
            cause: err,
          },
        );
      }
      // A CPU-only install is the expected case (info); CUDA libraries present but failing to
      // start means a misconfigured GPU node (warn).
      fallback = { reason: firstLine(err), level: missing ? 'info' : 'warn' };
    }
  }
  const provider: Provider = pair ? 'cuda' : 'cpu';
  if (!pair) {
    try {
      pair = await openPair(files, 'cpu', opts);
    } catch (err) {
      throw new ClipstreamError(
        'CLIPSTREAM_MODEL_LOAD_FAILED',
        `ONNX Runtime could not load ${dirname(files.image)}: ${firstLine(err)}`,
        {
          cause: err,
        },
      );
    }
  }
  const [image, text] = pair;
  try {
    checkContract(
      manifest,
      { inputs: image.inputMetadata, outputs: image.outputMetadata },
      text ? { inputs: text.inputMetadata, outputs: text.outputMetadata } : undefined,
    );
  } catch (err) {
    await Promise.allSettled([image.release(), text?.release()]);
    throw err;
  }
  return { image, ...(text ? { text } : {}), provider, ...(fallback ? { fallback } : {}) };
}

/** Image encoder on `n` frames packed NHWC in `pixels`; returns `image_embeds` as produced ([n, D]). */
export async function runImage(
  s: OpenSessions,
  m: Manifest,
  pixels: Uint8Array,
  n: number,
): Promise<Float32Array> {
  const input = new ort.Tensor('uint8', pixels, [n, m.image.height, m.image.width, 3]);
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await s.image.run({ [m.image.input]: input }, [m.image.outputs.embeds]);
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_INFERENCE_FAILED', `image encoder failed: ${firstLine(err)}`, {
      cause: err,
    });
  }
  const data = out[m.image.outputs.embeds]?.data;
  if (!(data instanceof Float32Array) || data.length !== n * m.embedDim) {
    throw new ClipstreamError(
      'CLIPSTREAM_MODEL_MISMATCH',
      `image encoder returned the wrong shape for ${n} frames`,
    );
  }
  return data;
}

/** Text encoder on `n` rows of ids and mask ([n, L] int64); returns text_embeds [n, D] and token_embeds [n, L, D]. */
export async function runText(
  s: OpenSessions,
  m: Manifest,
  ids: BigInt64Array,
  mask: BigInt64Array,
  n: number,
): Promise<{ sentence: Float32Array; tokens: Float32Array }> {
  const L = m.text.contextLength;
  const D = m.embedDim;
  if (!s.text) throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'this lane has no text encoder');
  let out: ort.InferenceSession.ReturnType;
  try {
    out = await s.text.run({
      [m.text.inputs.ids]: new ort.Tensor('int64', ids, [n, L]),
      [m.text.inputs.mask]: new ort.Tensor('int64', mask, [n, L]),
    });
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_INFERENCE_FAILED', `text encoder failed: ${firstLine(err)}`, {
      cause: err,
    });
  }
  const sentence = out[m.text.outputs.embeds]?.data;
  const tokens = out[m.text.outputs.tokens]?.data;
  if (
    !(sentence instanceof Float32Array) ||
    !(tokens instanceof Float32Array) ||
    sentence.length !== n * D ||
    tokens.length !== n * L * D
  ) {
    throw new ClipstreamError('CLIPSTREAM_MODEL_MISMATCH', 'text encoder returned the wrong shapes');
  }
  return { sentence, tokens };
}

export async function releaseSessions(s: OpenSessions): Promise<void> {
  await Promise.allSettled([s.image.release(), s.text?.release()]);
}
