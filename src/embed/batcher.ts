import { ClipstreamError } from '../errors.js';

export interface BatcherOptions<I, O> {
  /**
   * Most items running at once, over all lanes: each lane's run takes at most its share,
   * `ceil(maxBatch / maxConcurrent)`.
   */
  readonly maxBatch: number;
  /** Longest an item waits for company before a partial batch runs, in milliseconds. */
  readonly maxWaitMs: number;
  /** Most items queued (not yet running); `submit` waits for room beyond it (backpressure). */
  readonly maxQueued: number;
  /** Most batches running at once (the encoder's lanes). Default 1. */
  readonly maxConcurrent?: number;
  /** Runs one batch; must return one output per input, in order. */
  readonly run: (items: I[]) => Promise<O[]>;
  /** Observes each run (size, milliseconds), e.g. for metrics. */
  readonly onBatch?: (size: number, ms: number) => void;
}

interface Pending<I, O> {
  item: I;
  /** performance.now() when it was queued */
  at: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Dynamic batching shared by every caller in the process (DeepStream's muxer, in miniature):
 * items from different videos join the same batch; a batch runs when a lane is free and it is
 * full or its oldest item has waited `maxWaitMs`. At most `maxConcurrent` batches run at once,
 * one per encoder lane, and `maxBatch` items in all: each lane's run takes its share (8 of 16
 * with two lanes). The queue is bounded: callers wait for room instead of piling up.
 */
export class Batcher<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private readonly roomWaiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;
  private closed = false;
  private readonly maxConcurrent: number;
  /** most items in one lane's run */
  private readonly laneBatch: number;
  /** runs under way: their size and start (for the share of the next run) */
  private readonly runs = new Set<{ size: number; at: number }>();
  /** recent milliseconds per item of a run (moving average); undefined before the first run */
  private msPerItem: number | undefined;

  constructor(private readonly opts: BatcherOptions<I, O>) {
    if (opts.maxBatch < 1 || opts.maxQueued < opts.maxBatch) {
      throw new RangeError('Batcher: need maxBatch >= 1 and maxQueued >= maxBatch');
    }
    this.maxConcurrent = opts.maxConcurrent ?? 1;
    if (!Number.isInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new RangeError('Batcher: need maxConcurrent >= 1');
    }
    this.laneBatch = Math.ceil(opts.maxBatch / this.maxConcurrent);
  }

  /** batches running now */
  get inFlight(): number {
    return this.running;
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
      const p: Pending<I, O> = { item, at: performance.now(), resolve, reject };
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
    if (this.running >= this.maxConcurrent || this.queue.length === 0) return;
    // The oldest item's wait counts from when it was queued: one that already waited for a
    // lane to come free runs at once, not after a further maxWaitMs with the lane idle.
    const left = this.opts.maxWaitMs - (performance.now() - (this.queue[0] as Pending<I, O>).at);
    if (this.queue.length >= this.laneBatch || left <= 0) {
      this.dispatch();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.dispatch();
      }, left);
    }
  }

  /**
   * Starts batches on the free lanes from what is queued. Each run takes its share, so that the
   * lanes finish together: the queue and what the running lanes still have to do, split
   * evenly over the lanes (at most a lane's batch). Otherwise the last frames of a video could
   * all go to one lane while another, about to come free, then idles for a whole batch. With
   * one lane this is the whole queue up to the batch size.
   */
  private dispatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.running < this.maxConcurrent && this.queue.length > 0) {
      const now = performance.now();
      let ahead = 0;
      for (const r of this.runs) {
        const done = this.msPerItem === undefined ? 0 : (now - r.at) / this.msPerItem;
        ahead += Math.max(0, r.size - done);
      }
      const share = Math.ceil((this.queue.length + ahead) / this.maxConcurrent);
      void this.flush(Math.max(1, Math.min(this.laneBatch, this.queue.length, share)));
    }
  }

  private async flush(take: number): Promise<void> {
    this.running += 1;
    const batch = this.queue.splice(0, take);
    const run = { size: batch.length, at: performance.now() };
    this.runs.add(run);
    batch.forEach(detach);
    this.wakeRoom();
    try {
      const out = await this.opts.run(batch.map((p) => p.item));
      if (out.length !== batch.length) {
        throw new ClipstreamError(
          'CLIPSTREAM_INTERNAL',
          `batch returned ${out.length} results for ${batch.length} items`,
        );
      }
      const ms = performance.now() - run.at;
      const per = ms / batch.length;
      this.msPerItem = this.msPerItem === undefined ? per : 0.7 * this.msPerItem + 0.3 * per;
      this.opts.onBatch?.(batch.length, ms);
      batch.forEach((p, i) => p.resolve(out[i] as O));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.running -= 1;
      this.runs.delete(run);
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
