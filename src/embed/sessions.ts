/**
 * The encoders as the main thread sees them: a worker thread (inference-worker.ts) owns the ONNX
 * Runtime sessions and runs each batch, so the event loop stays free while the model computes
 * (onnxruntime-node's `run()` computes on the thread that calls it). Frames go over by transfer,
 * not copy; embeddings come back the same way.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { cpuBudget, threadsPerLane } from '../budget.js';
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
  /** image-encoder lanes: batches that can run at once */
  readonly lanes: number;
  /** image batches run so far on each lane */
  readonly runsPerLane: readonly number[];
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

/** One inference worker and its requests under way (for choosing the least busy lane). */
interface Lane {
  readonly worker: InferenceWorker;
  busy: number;
  runs: number;
}

/**
 * Image-encoder lanes and intra-op threads per lane for `opts` on `cores` cores (pure): on the
 * CPU the budget's lanes unless set, the cores split between them unless the threads are set
 * (one lane keeps the runtime's own default, 0); on CUDA one lane.
 */
export function laneLayout(
  opts: Pick<RuntimeOptions, 'lanes' | 'intraOpThreads'>,
  cores: number,
  provider: Provider = 'cpu',
): { encoderLanes: number; intraOpThreads: number } {
  if (provider === 'cuda') return { encoderLanes: 1, intraOpThreads: opts.intraOpThreads };
  const budget = cpuBudget(cores, 'cpu');
  const lanes = opts.lanes !== undefined && opts.lanes > 0 ? opts.lanes : budget.encoderLanes;
  return {
    encoderLanes: lanes,
    intraOpThreads: opts.intraOpThreads > 0 ? opts.intraOpThreads : threadsPerLane(cores, lanes),
  };
}

async function startLane(
  pack: ModelPack,
  runtime: RuntimeOptions,
  withText: boolean,
): Promise<{ lane: Lane; ready: Extract<WorkerReply, { type: 'ready' }> }> {
  const w = new InferenceWorker();
  let ready: WorkerReply;
  try {
    ready = await w.request({
      type: 'init',
      manifest: pack.manifest,
      files: { image: pack.paths.image, ...(withText ? { text: pack.paths.text } : {}) },
      runtime,
    });
  } catch (err) {
    await w.terminate();
    throw err;
  }
  if (ready.type !== 'ready') {
    await w.terminate();
    throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference worker did not start');
  }
  return { lane: { worker: w, busy: 0, runs: 0 }, ready };
}

async function releaseLane(lane: Lane): Promise<void> {
  try {
    await lane.worker.request({ type: 'release' });
  } catch {
    // already gone: nothing to release
  }
  await lane.worker.terminate();
}

/**
 * Starts the inference workers, opens the image and text encoders on the requested device and
 * checks the graphs against the model pack contract. `auto` falls back to CPU with one log
 * line when CUDA cannot be used. On the CPU the image encoder runs in `lanes` worker threads
 * (laneLayout: the CPU budget's two on two or more cores), each with its own session and a
 * share of the cores, so that several batches compute at once; the first lane also holds the
 * text encoder. On CUDA there is one lane.
 */
export async function openEncoders(
  pack: ModelPack,
  opts: RuntimeOptions,
  log: Logger,
): Promise<EncoderSessions> {
  const layout = laneLayout(opts, availableParallelism());
  const runtime: RuntimeOptions = {
    device: opts.device,
    intraOpThreads: layout.intraOpThreads,
    cudaDeviceId: opts.cudaDeviceId,
    ...(opts.allowSpinning !== undefined ? { allowSpinning: opts.allowSpinning } : {}),
  };
  const first = await startLane(pack, runtime, true);
  const { ready } = first;
  const lanes: Lane[] = [first.lane];
  if (ready.fallback) {
    log[ready.fallback.level]('CUDA execution provider unavailable; falling back to CPU', {
      reason: ready.fallback.reason,
    });
  }
  if (ready.provider === 'cpu' && layout.encoderLanes > 1) {
    const more = await Promise.allSettled(
      Array.from({ length: layout.encoderLanes - 1 }, () =>
        startLane(pack, { ...runtime, device: 'cpu' }, false),
      ),
    );
    for (const r of more) if (r.status === 'fulfilled') lanes.push(r.value.lane);
    const failed = more.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(lanes.map(releaseLane));
      throw failed.reason;
    }
  }
  log.info('model loaded', {
    model: pack.manifest.name,
    provider: ready.provider,
    lanes: lanes.length,
    intraOpThreads: layout.intraOpThreads || 'runtime default',
    dir: pack.dir,
  });
  const textLane = first.lane;
  let releasing: Promise<void> | undefined;
  return {
    provider: ready.provider,
    lanes: lanes.length,
    get runsPerLane() {
      return lanes.map((l) => l.runs);
    },
    async runImage(pixels, n) {
      // The least busy lane; the batcher runs at most one batch per lane at a time.
      let lane = lanes[0] as Lane;
      for (const l of lanes) if (l.busy < lane.busy) lane = l;
      lane.busy += 1;
      lane.runs += 1;
      try {
        const r = await lane.worker.request({ type: 'image', pixels, n }, [pixels.buffer as ArrayBuffer]);
        if (r.type !== 'image')
          throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'unexpected reply from the inference worker');
        return r.embeds;
      } finally {
        lane.busy -= 1;
      }
    },
    async runText(ids, mask, n) {
      const r = await textLane.worker.request({ type: 'text', ids, mask, n });
      if (r.type !== 'text')
        throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'unexpected reply from the inference worker');
      return { sentence: r.sentence, tokens: r.tokens };
    },
    release() {
      releasing ??= Promise.allSettled(lanes.map(releaseLane)).then(() => undefined);
      return releasing;
    },
  };
}
