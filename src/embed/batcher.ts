import { ClipstreamError } from '../errors.js';

export interface BatcherOptions<I, O> {
  /** Most items in one run. */
  readonly maxBatch: number;
  /** Longest an item waits for company before a partial batch runs, in milliseconds. */
  readonly maxWaitMs: number;
  /** Most items queued (not yet running); `submit` waits for room beyond it (backpressure). */
  readonly maxQueued: number;
  /** Runs one batch; must return one output per input, in order. */
  readonly run: (items: I[]) => Promise<O[]>;
  /** Observes each run (size, milliseconds), e.g. for metrics. */
  readonly onBatch?: (size: number, ms: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Dynamic batching shared by every caller in the process (DeepStream's muxer, in miniature):
 * items from different videos join the same batch; a batch runs when it is full or when its
 * oldest item has waited `maxWaitMs`. One batch runs at a time (the runtime already uses every
 * core for one batch), and the queue is bounded: callers wait for room instead of piling up.
 */
export class Batcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private closed = false;

  constructor(private readonly opts: BatcherOptions<I, O>) {
    if (opts.maxBatch < 1 || opts.maxQueued < opts.maxBatch) {
      throw new RangeError('Batcher: need maxBatch >= 1 and maxQueued >= maxBatch');
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  async submit(item: I, signal?: AbortSignal): Promise<O> {
    while (this.queue.length >= this.opts.maxQueued && !this.closed) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    if (this.closed) throw new ClipstreamError('CLIPSTREAM_ABORTED', 'batcher is closed');
    if (signal?.aborted) throw abortError(signal);
    return new Promise<O>((resolve, reject) => {
      const p: Pending<I, O> = { item, resolve, reject };
      if (signal) {
        p.signal = signal;
        p.onAbort = () => {
          const i = this.queue.indexOf(p);
          if (i >= 0) {
            this.queue.splice(i, 1);
            this.wakeRoom();
            reject(abortError(signal));
          }
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.schedule();
    });
  }

  /** Rejects everything queued and refuses new work. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.queue.splice(0)) {
      detach(p);
      p.reject(new ClipstreamError('CLIPSTREAM_ABORTED', 'batcher closed'));
    }
    this.wakeRoom(true);
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queue.length >= this.opts.maxBatch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.opts.maxWaitMs);
    }
  }

  private async flush(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const batch = this.queue.splice(0, this.opts.maxBatch);
    batch.forEach(detach);
    this.wakeRoom();
    const t0 = performance.now();
    try {
      const out = await this.opts.run(batch.map((p) => p.item));
      if (out.length !== batch.length) {
        throw new ClipstreamError(
          'CLIPSTREAM_INTERNAL',
          `batch returned ${out.length} results for ${batch.length} items`,
        );
      }
      this.opts.onBatch?.(batch.length, performance.now() - t0);
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private wakeRoom(all = false): void {
    const n = all ? this.roomWaiters.length : Math.max(0, this.opts.maxQueued - this.queue.length);
    for (const w of this.roomWaiters.splice(0, n)) w();
  }
}

function detach<I, O>(p: Pending<I, O>): void {
  if (p.signal && p.onAbort) p.signal.removeEventListener('abort', p.onAbort);
}

function abortError(signal: AbortSignal): ClipstreamError {
  return new ClipstreamError('CLIPSTREAM_ABORTED', 'aborted', { cause: signal.reason });
}
