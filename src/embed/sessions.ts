/**
 * The encoders as the main thread sees them: a worker thread (inference-worker.ts) owns the ONNX
 * Runtime sessions and runs each batch, so the event loop stays free while the model computes
 * (onnxruntime-node's `run()` computes on the thread that calls it). Frames go over by transfer,
 * not copy; embeddings come back the same way.
 */
import { Worker } from 'node:worker_threads';
import { ClipstreamError, ERROR_CODES } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Provider, RuntimeOptions } from './runtime-options.js';
import type { ModelPack } from './pack.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

export { DEFAULT_RUNTIME } from './runtime-options.js';
export type { Device, Provider, RuntimeOptions } from './runtime-options.js';

export interface EncoderSessions {
  readonly provider: Provider;
  /** `n` frames packed NHWC (the buffer is transferred: unusable afterwards) -> [n, D] */
  runImage(pixels: Uint8Array, n: number): Promise<Float32Array>;
  /** [n, L] ids and mask -> text_embeds [n, D] and token_embeds [n, L, D] */
  runText(
    ids: BigInt64Array,
    mask: BigInt64Array,
    n: number,
  ): Promise<{ sentence: Float32Array; tokens: Float32Array }>;
  release(): Promise<void>;
}

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: unknown) => void };

class InferenceWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: ClipstreamError | undefined;

  constructor() {
    this.worker = new Worker(new URL('./inference-worker.js', import.meta.url));
    this.worker.on('message', (msg: WorkerReply) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'error') {
        const code: ErrorCode =
          msg.error.code in ERROR_CODES ? msg.error.code : 'CLIPSTREAM_INFERENCE_FAILED';
        p.reject(new ClipstreamError(code, msg.error.message));
      } else {
        p.resolve(msg);
      }
    });
    const die = (err: ClipstreamError) => {
      this.dead ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) =>
      die(
        new ClipstreamError('CLIPSTREAM_INFERENCE_FAILED', `inference worker failed: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    this.worker.on('exit', (code) =>
      die(new ClipstreamError('CLIPSTREAM_INFERENCE_FAILED', `inference worker exited (code ${code})`)),
    );
  }

  request(msg: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * Starts the inference worker, opens the image and text encoders on the requested device and
 * checks both graphs against the model pack contract. `auto` falls back to CPU with one log
 * line when CUDA cannot be used.
 */
export async function openEncoders(
  pack: ModelPack,
  opts: RuntimeOptions,
  log: Logger,
): Promise<EncoderSessions> {
  const w = new InferenceWorker();
  let ready: WorkerReply;
  try {
    ready = await w.request({
      type: 'init',
      manifest: pack.manifest,
      files: { image: pack.paths.image, text: pack.paths.text },
      runtime: {
        device: opts.device,
        intraOpThreads: opts.intraOpThreads,
        cudaDeviceId: opts.cudaDeviceId,
        ...(opts.allowSpinning !== undefined ? { allowSpinning: opts.allowSpinning } : {}),
      },
    });
  } catch (err) {
    await w.terminate();
    throw err;
  }
  if (ready.type !== 'ready')
    throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference worker did not start');
  if (ready.fallback) {
    log[ready.fallback.level]('CUDA execution provider unavailable; falling back to CPU', {
      reason: ready.fallback.reason,
    });
  }
  log.info('model loaded', { model: pack.manifest.name, provider: ready.provider, dir: pack.dir });
  let releasing: Promise<void> | undefined;
  return {
    provider: ready.provider,
    async runImage(pixels, n) {
      const r = await w.request({ type: 'image', pixels, n }, [pixels.buffer as ArrayBuffer]);
      if (r.type !== 'image')
        throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'unexpected reply from the inference worker');
      return r.embeds;
    },
    async runText(ids, mask, n) {
      const r = await w.request({ type: 'text', ids, mask, n });
      if (r.type !== 'text')
        throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'unexpected reply from the inference worker');
      return { sentence: r.sentence, tokens: r.tokens };
    },
    release() {
      releasing ??= (async () => {
        try {
          await w.request({ type: 'release' });
        } catch {
          // already gone: nothing to release
        }
        await w.terminate();
      })();
      return releasing;
    },
  };
}
