/**
 * The encoders as the main process sees them: each lane is a child process (inference-worker.ts)
 * that owns its ONNX Runtime sessions and runs each batch, so the event loop stays free while the
 * model computes (onnxruntime-node's `run()` computes on the thread that calls it).
 *
 * Why processes and not worker threads: the weights then live outside the main process, which
 * stays small. Every ffprobe and ffmpeg start is a fork() of the main process, and fork copies
 * the page tables of all its memory: holding a ViT-B/32 in two lanes (about 1 GB) made each
 * spawn block the event loop for about 16 ms instead of 1, three times per video before its
 * first frame, and the cost grows with the memory (docs/performance.md, "Lanes in their own
 * processes"). It also keeps ONNX Runtime away from
 * the main process's command line (docs/security.md). Messages use the IPC channel's structured
 * clone (`serialization: 'advanced'`): frames and embeddings are copied once each way.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { cpuBudget, threadsPerLane } from '../budget.js';
import { ClipstreamError, ERROR_CODES } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Provider, RuntimeOptions } from './runtime-options.js';
import type { ModelPack } from './pack.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

export { DEFAULT_RUNTIME } from './runtime-options.js';
export type { Device, Provider, RuntimeOptions } from './runtime-options.js';

/** How long a lane may take to exit once asked (release, close) before it is killed. */
export const LANE_EXIT_GRACE_MS = 5000;

export interface EncoderSessions {
  readonly provider: Provider;
  /** image-encoder lanes: batches that can run at once */
  readonly lanes: number;
  /** image batches run so far on each lane */
  readonly runsPerLane: readonly number[];
  /** process id of each lane's inference process now (diagnostics) */
  readonly processIds: readonly (number | undefined)[];
  /** `n` frames packed NHWC -> [n, D] */
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

class InferenceProcess {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  private nextId = 1;
  private dead: ClipstreamError | undefined;

  constructor() {
    this.child = fork(fileURLToPath(new URL('./inference-worker.js', import.meta.url)), [], {
      serialization: 'advanced',
      // The main process's flags (a test runner's, a profiler's) are not the lane's.
      execArgv: [],
      // stdout is the CLI's result document: nothing of the lane's goes there.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      // Its own process group: a terminal's Ctrl-C reaches the main process only, which
      // finishes its work on the lanes before it releases them.
      detached: true,
    });
    const die = (err: ClipstreamError) => {
      this.dead ??= err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        die(
          new ClipstreamError(
            'CLIPSTREAM_INFERENCE_FAILED',
            `inference process exited (${signal ? `signal ${signal}` : `code ${code}`})`,
          ),
        );
        resolve();
      });
    });
    this.child.on('message', (msg: WorkerReply) => {
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
    this.child.on('error', (err) =>
      die(
        new ClipstreamError('CLIPSTREAM_INFERENCE_FAILED', `inference process failed: ${err.message}`, {
          cause: err,
        }),
      ),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Why the process is gone (it exited or could not start), or undefined while it runs. */
  get died(): ClipstreamError | undefined {
    return this.dead;
  }

  request(msg: DistributiveOmit<WorkerRequest, 'id'>): Promise<WorkerReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id }, (err) => {
        if (!err || !this.pending.has(id)) return;
        this.pending.delete(id);
        reject(
          new ClipstreamError(
            'CLIPSTREAM_INFERENCE_FAILED',
            `inference process unreachable: ${err.message}`,
            {
              cause: err,
            },
          ),
        );
      });
    });
  }

  /** Closes the channel (the process exits when it sees it close) and waits; kills it after a grace. */
  async terminate(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.disconnect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.exited,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.child.kill('SIGKILL');
          resolve();
        }, LANE_EXIT_GRACE_MS);
      }),
    ]);
    clearTimeout(timer);
    await this.exited;
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

/**
 * One lane: its inference process and its requests under way (for choosing the least busy lane).
 * A lane whose process died (a native crash, the OOM killer) gets a fresh process on its next
 * request: the batches it was running fail (retryable), the lane goes on.
 */
interface Lane {
  process: InferenceProcess;
  readonly init: InitRequest;
  replacing: Promise<void> | undefined;
  busy: number;
  runs: number;
}

type InitRequest = Extract<DistributiveOmit<WorkerRequest, 'id'>, { type: 'init' }>;
type Ready = Extract<WorkerReply, { type: 'ready' }>;

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

async function startProcess(init: InitRequest): Promise<{ process: InferenceProcess; ready: Ready }> {
  const w = new InferenceProcess();
  let ready: WorkerReply;
  try {
    ready = await w.request(init);
  } catch (err) {
    await w.terminate();
    throw err;
  }
  if (ready.type !== 'ready') {
    await w.terminate();
    throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference process did not start');
  }
  return { process: w, ready };
}

async function startLane(
  pack: ModelPack,
  runtime: RuntimeOptions,
  withText: boolean,
): Promise<{ lane: Lane; ready: Ready }> {
  const init: InitRequest = {
    type: 'init',
    manifest: pack.manifest,
    files: { image: pack.paths.image, ...(withText ? { text: pack.paths.text } : {}) },
    runtime,
  };
  const { process, ready } = await startProcess(init);
  return { lane: { process, init, replacing: undefined, busy: 0, runs: 0 }, ready };
}

/** The lane's process, started again first if it has died. */
async function liveProcess(lane: Lane, log: Logger): Promise<InferenceProcess> {
  const died = lane.process.died;
  if (died) {
    lane.replacing ??= (async () => {
      log.warn('inference process died; starting it again', { reason: died.message });
      lane.process = (await startProcess(lane.init)).process;
    })().finally(() => {
      lane.replacing = undefined;
    });
    await lane.replacing;
  }
  return lane.process;
}

async function releaseLane(lane: Lane): Promise<void> {
  await lane.replacing?.catch(() => undefined);
  try {
    await lane.process.request({ type: 'release' });
  } catch {
    // already gone: nothing to release
  }
  await lane.process.terminate();
}

/**
 * Starts the inference processes, opens the image and text encoders on the requested device and
 * checks the graphs against the model pack contract. `auto` falls back to CPU with one log
 * line when CUDA cannot be used. On the CPU the image encoder runs in `lanes` processes
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
    get processIds() {
      return lanes.map((l) => l.process.pid);
    },
    async runImage(pixels, n) {
      // The least busy lane; the batcher runs at most one batch per lane at a time.
      let lane = lanes[0] as Lane;
      for (const l of lanes) if (l.busy < lane.busy) lane = l;
      lane.busy += 1;
      lane.runs += 1;
      try {
        const proc = releasing ? lane.process : await liveProcess(lane, log);
        const r = await proc.request({ type: 'image', pixels, n });
        if (r.type !== 'image')
          throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'unexpected reply from the inference process');
        return r.embeds;
      } finally {
        lane.busy -= 1;
      }
    },
    async runText(ids, mask, n) {
      const proc = releasing ? textLane.process : await liveProcess(textLane, log);
      const r = await proc.request({ type: 'text', ids, mask, n });
      if (r.type !== 'text')
        throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'unexpected reply from the inference process');
      return { sentence: r.sentence, tokens: r.tokens };
    },
    release() {
      releasing ??= Promise.allSettled(lanes.map(releaseLane)).then(() => undefined);
      return releasing;
    },
  };
}
