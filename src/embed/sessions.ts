import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ClipstreamError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ModelPack } from './pack.js';

export type Device = 'auto' | 'cpu' | 'cuda';
export type Provider = 'cuda' | 'cpu';

export interface RuntimeOptions {
  /** `auto` tries CUDA then CPU; `cuda` fails when CUDA is unavailable. Default `auto`. */
  readonly device: Device;
  /** ONNX Runtime intra-op threads; 0 lets the runtime choose (one per core). Default 0. */
  readonly intraOpThreads: number;
  /** CUDA device ordinal. Default 0. */
  readonly cudaDeviceId: number;
}

export const DEFAULT_RUNTIME: RuntimeOptions = Object.freeze({
  device: 'auto',
  intraOpThreads: 0,
  cudaDeviceId: 0,
});

export interface EncoderSessions {
  readonly image: ort.InferenceSession;
  readonly text: ort.InferenceSession;
  readonly provider: Provider;
  release(): Promise<void>;
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

async function open(path: string, provider: Provider, opts: RuntimeOptions): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, sessionOptions(provider, opts));
}

async function openPair(
  pack: ModelPack,
  provider: Provider,
  opts: RuntimeOptions,
): Promise<[ort.InferenceSession, ort.InferenceSession]> {
  const image = await open(pack.paths.image, provider, opts);
  try {
    const text = await open(pack.paths.text, provider, opts);
    return [image, text];
  } catch (err) {
    await image.release().catch(() => undefined);
    throw err;
  }
}

/**
 * Opens the image and text encoders on the requested device and checks both graphs against the
 * model pack contract. `auto` falls back to CPU with one log line when CUDA cannot be used.
 */
export async function openEncoders(
  pack: ModelPack,
  opts: RuntimeOptions,
  log: Logger,
): Promise<EncoderSessions> {
  let provider: Provider = opts.device === 'cpu' ? 'cpu' : 'cuda';
  let pair: [ort.InferenceSession, ort.InferenceSession] | undefined;
  if (provider === 'cuda') {
    try {
      const missing = cudaUnavailableReason();
      if (missing) throw new Error(missing);
      pair = await openPair(pack, 'cuda', opts);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      if (opts.device === 'cuda') {
        throw new ClipstreamError(
          'CLIPSTREAM_DEVICE_UNAVAILABLE',
          `CUDA execution provider unavailable: ${reason}`,
          {
            cause: err,
          },
        );
      }
      // A CPU-only install is the expected case (info); CUDA libraries present but failing to
      // start means a misconfigured GPU node (warn).
      const level = cudaUnavailableReason() ? 'info' : 'warn';
      log[level]('CUDA execution provider unavailable; falling back to CPU', { reason });
      provider = 'cpu';
    }
  }
  if (!pair) {
    try {
      pair = await openPair(pack, 'cpu', opts);
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new ClipstreamError(
        'CLIPSTREAM_MODEL_LOAD_FAILED',
        `ONNX Runtime could not load ${pack.dir}: ${reason}`,
        {
          cause: err,
        },
      );
    }
  }
  const [image, text] = pair;
  try {
    checkContract(pack, image, text);
  } catch (err) {
    await Promise.allSettled([image.release(), text.release()]);
    throw err;
  }
  log.info('model loaded', { model: pack.manifest.name, provider, dir: pack.dir });
  let released = false;
  return {
    image,
    text,
    provider,
    async release() {
      if (released) return;
      released = true;
      await Promise.allSettled([image.release(), text.release()]);
    },
  };
}

type Dim = number | string | undefined;

function describe(meta: ort.InferenceSession.ValueMetadata | undefined): string {
  if (!meta) return 'absent';
  if (!meta.isTensor) return 'not a tensor';
  return `${meta.type} [${meta.shape.map((d) => String(d)).join(', ')}]`;
}

function expectTensor(
  session: ort.InferenceSession,
  kind: 'input' | 'output',
  file: string,
  name: string,
  type: string,
  dims: Dim[],
): void {
  const list = kind === 'input' ? session.inputMetadata : session.outputMetadata;
  const meta = list.find((m) => m.name === name);
  const want = `${type} [${dims.map((d) => (d === undefined ? 'N' : String(d))).join(', ')}]`;
  const fail = (): never => {
    throw new ClipstreamError(
      'CLIPSTREAM_MODEL_MISMATCH',
      `${file}: ${kind} '${name}' must be ${want}, found ${describe(meta)}`,
    );
  };
  if (!meta || !meta.isTensor || meta.type !== type) return fail();
  // An empty shape means the graph did not declare one; the dummy run in `model verify` checks it.
  if (meta.shape.length === 0) return;
  if (meta.shape.length !== dims.length) return fail();
  dims.forEach((d, i) => {
    const got = meta.shape[i];
    if (typeof d === 'number' && typeof got === 'number' && got !== d) fail();
  });
}

function checkContract(pack: ModelPack, image: ort.InferenceSession, text: ort.InferenceSession): void {
  const m = pack.manifest;
  const D = m.embedDim;
  const L = m.text.contextLength;
  expectTensor(image, 'input', m.image.file, m.image.input, 'uint8', [
    undefined,
    m.image.height,
    m.image.width,
    3,
  ]);
  expectTensor(image, 'output', m.image.file, m.image.outputs.embeds, 'float32', [undefined, D]);
  if (m.image.outputs.patches) {
    expectTensor(image, 'output', m.image.file, m.image.outputs.patches, 'float32', [
      undefined,
      undefined,
      D,
    ]);
  }
  expectTensor(text, 'input', m.text.file, m.text.inputs.ids, 'int64', [undefined, L]);
  expectTensor(text, 'input', m.text.file, m.text.inputs.mask, 'int64', [undefined, L]);
  expectTensor(text, 'output', m.text.file, m.text.outputs.embeds, 'float32', [undefined, D]);
  expectTensor(text, 'output', m.text.file, m.text.outputs.tokens, 'float32', [undefined, L, D]);
}
