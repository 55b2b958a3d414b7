/**
 * Decoding: one ffmpeg process per call, run through fluent-ffmpeg, raw rgb24 frames read from
 * its stdout and each frame's timestamp read from the `showinfo` tap on its stderr.
 *
 * Timestamps: ffmpeg runs with -copyts, so the pts reaching the filter graph are the source's
 * own; `select` keeps real source frames with their pts untouched, `settb=AVTB` makes the pts
 * an integer count of microseconds, and `showinfo` (the last filter) logs one line per output
 * frame. We subtract the container's start time (from the probe) ourselves. With
 * `-fps_mode passthrough` every frame leaving the graph is written to stdout exactly once, so
 * the n-th report belongs to the n-th frame; reports are checked to arrive numbered 0, 1, 2...
 *
 * Flow control: frames are pulled. The stdout pipe feeds a bounded PassThrough; while the
 * consumer holds a frame nothing reads it, the pipe fills and ffmpeg blocks.
 */
import { PassThrough } from 'node:stream';
import ffmpeg, { type FfmpegCommand } from 'fluent-ffmpeg';
import { ClipstreamError } from '../errors.js';
import { binaries } from './binaries.js';
import { type DecodePlan, type PlanSettings, buildDecodePlan } from './graph.js';
import {
  type DecodeOptions,
  type DecodeSettings,
  type MediaLimits,
  parseDecodeSettings,
  parseLimits,
} from './options.js';
import { machineBudget } from '../budget.js';
import { type HwChoice, chooseHwDecode, detectCuda, fallbackLine } from './hwdecode.js';
import { checkLimits, probeKeyframes } from './probe.js';
import { type DecodeChoice, chooseDecode, seekTargets, wantsKeyframeProbe } from './strategy.js';
import { KILL_GRACE_MS, StderrTail, classifyFfmpegFailure } from './process-util.js';
import type { ResolvedSource } from './source.js';
import type { Frame, ProbeInfo } from './types.js';

type StopReason = 'aborted' | 'timeout' | 'too-many-frames' | 'bad-report' | 'closed';

/** A showinfo report: `[Parsed_showinfo_6 @ 0x..] [info] n:   3 pts:1500000 pts_time:1.5 ...`. */
const REPORT = /^\[(Parsed_showinfo_\d+) @ 0x[0-9a-f]+\] \[info\] n:\s*(\d+) pts:\s*(\S+) pts_time:/;

/**
 * Decodes and samples a probed source, yielding frames of `height * width * 3` rgb24 bytes with
 * their times on the source timeline. Breaking out of the loop, aborting the signal or running
 * past `limits.timeoutMs` kills ffmpeg (SIGTERM, then SIGKILL after a short grace) and waits for
 * it to exit. Errors: CLIPSTREAM_BAD_CONFIG (options), CLIPSTREAM_SOURCE_TOO_LARGE (a limit),
 * CLIPSTREAM_DECODE_FAILED (with ffmpeg's last error line), CLIPSTREAM_DECODE_TIMEOUT,
 * CLIPSTREAM_NO_FRAMES, CLIPSTREAM_ABORTED.
 *
 * `probed` may be the probe still under way. ffmpeg then starts at once with the command the
 * most common source would get (earlyPlan); once the probe answers, the limits are checked and
 * the decode is chosen as always. When the chosen command is the one already running, its
 * frames are used; otherwise that ffmpeg is stopped and the chosen one started. A failed probe's
 * error is the call's error. Each ffmpeg or ffprobe start costs about 50 ms, so this takes the
 * first frame from after probe + start to about the longer of the two.
 */
export async function* decodeFrames(
  src: ResolvedSource,
  probed: ProbeInfo | Promise<ProbeInfo>,
  opts: DecodeOptions,
): AsyncGenerator<Frame, void, undefined> {
  const settings = parseDecodeSettings(opts);
  const limits = parseLimits(opts.limits);
  const plan = (info: ProbeInfo): Promise<Planned> => planProbed(src, info, opts, settings, limits);
  if (!(probed instanceof Promise)) {
    yield* runPlanned(src, await plan(probed), opts);
    return;
  }
  if (opts.signal?.aborted) throw new ClipstreamError('CLIPSTREAM_ABORTED', 'decode aborted');
  const bins = await binaries();
  const early = await earlyPlan(src, settings, opts, limits, bins.ffmpeg);
  if (!early) {
    yield* runPlanned(src, await plan(await probed), opts);
    return;
  }
  const run = new DecodeRun(src, early, limits, opts.signal, 0);
  let planned: Planned;
  try {
    planned = await plan(await probed);
  } catch (err) {
    await run.close();
    throw err;
  }
  // The command the probe asks for, with the stream named as the early one names it (`0:V:0`).
  if (
    planned.kind !== 'run' ||
    planned.hw.use !== 'cpu' ||
    !samePlan(
      buildDecodePlan(src, { ...planned.info, streamIndex: undefined }, planned.planned, limits),
      early,
    )
  ) {
    await run.close();
    yield* runPlanned(src, planned, opts);
    return;
  }
  try {
    announce(planned, opts, true);
    run.setStartTime(planned.info.startTimeSec);
    yield* run.frames();
  } finally {
    await run.close();
  }
}

/**
 * What a source is taken to be before its probe answers: the first video stream, square pixels,
 * starting at 0, 30 frames/s H.264. Most sources are; for the others the plan the probe gives
 * differs and ffmpeg starts again (decodeFrames).
 */
const ASSUMED_INFO = { streamIndex: undefined, sampleAspectRatio: 1, startTimeSec: 0 } as const;
const ASSUMED_SOURCE = { fps: 30, codec: 'h264' } as const;

/**
 * The command ffmpeg can start with before the probe answers, or undefined: the decode the
 * assumed source would get, on the CPU. Keyframe sampling of any recorded source; other
 * sampling of a local file only, whose keyframe spacing comes with the probe (a remote one
 * would be read twice at once while its keyframes are probed). Never RTSP (a camera would be
 * opened twice), never a seek per sample, never when this source might decode on the GPU.
 */
async function earlyPlan(
  src: ResolvedSource,
  settings: DecodeSettings,
  opts: DecodeOptions,
  limits: MediaLimits,
  ffmpegBin: string,
): Promise<DecodePlan | undefined> {
  const { sampling } = settings;
  if (src.kind === 'rtsp' || (sampling.strategy !== 'keyframes' && src.kind !== 'file')) return undefined;
  const forced = opts.decode ?? 'auto';
  const mode =
    forced !== 'auto'
      ? forced
      : chooseDecode({ sampling, ...ASSUMED_SOURCE, durationSec: 0, keyframes: undefined }).mode;
  if (mode === 'seek') return undefined;
  const hw = await hwChoice(opts, ffmpegBin, {
    codec: ASSUMED_SOURCE.codec,
    sampleAspectRatio: 1,
    sceneSampling: sampling.strategy === 'scene',
  });
  if (hw.use !== 'cpu') return undefined;
  return buildDecodePlan(
    src,
    ASSUMED_INFO,
    { ...settings, decode: mode, threads: decoderThreads(opts) },
    limits,
  );
}

function samePlan(a: DecodePlan, b: DecodePlan): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Where this decode runs: `hwaccel` off means the CPU, else chooseHwDecode on what ffmpeg offers. */
async function hwChoice(
  opts: DecodeOptions,
  ffmpegBin: string,
  source: Parameters<typeof chooseHwDecode>[2],
): Promise<HwChoice> {
  const setting = opts.hwaccel ?? 'auto';
  if (setting === 'cpu') return { use: 'cpu', reason: 'off' };
  return chooseHwDecode(setting, await detectCuda(ffmpegBin), source);
}

/** ffmpeg decoder threads: the caller's, else the CPU budget's. */
function decoderThreads(opts: DecodeOptions): number {
  return opts.threads ?? machineBudget('cpu').decoderThreads;
}

/** What a probed source decodes with: one seek per sample, or one ffmpeg run of `plan`. */
type Planned = { info: ProbeInfo; choice: DecodeChoice; limits: MediaLimits } & (
  | { kind: 'seek'; settings: DecodeSettings & { threads: number } }
  | {
      kind: 'run';
      hw: HwChoice;
      /** settings of the plan (the CPU's; `hw: 'cuda'` is added for NVDEC) */
      planned: PlanSettings;
      plan: DecodePlan;
    }
);

/** Checks a probed source against the limits and chooses its decode. */
async function planProbed(
  src: ResolvedSource,
  info: ProbeInfo,
  opts: DecodeOptions,
  settings: DecodeSettings,
  limits: MediaLimits,
): Promise<Planned> {
  checkLimits(info, limits);
  const { sampling } = settings;
  if (sampling.strategy === 'fps' && info.durationSec > 0) {
    const expected = Math.ceil(info.durationSec * sampling.fps);
    if (expected > limits.maxFrames) {
      throw new ClipstreamError(
        'CLIPSTREAM_SOURCE_TOO_LARGE',
        `sampling ${info.durationSec} s at ${sampling.fps} fps gives about ${expected} frames, over the limit of ${limits.maxFrames}`,
      );
    }
  }
  if (opts.signal?.aborted) throw new ClipstreamError('CLIPSTREAM_ABORTED', 'decode aborted');
  const bins = await binaries();
  const choice = await decodeChoice(src, info, settings.sampling, opts);
  const threads = decoderThreads(opts);
  if (choice.mode === 'seek')
    return { kind: 'seek', info, choice, limits, settings: { ...settings, threads } };
  const hw = await hwChoice(opts, bins.ffmpeg, {
    codec: info.codec,
    sampleAspectRatio: info.sampleAspectRatio,
    sceneSampling: settings.sampling.strategy === 'scene',
  });
  const planned: PlanSettings = { ...settings, decode: choice.mode, threads };
  return {
    kind: 'run',
    info,
    choice,
    limits,
    hw,
    planned,
    plan: buildDecodePlan(src, info, planned, limits),
  };
}

/** Tells the caller the decode choice and, once, that decoding is on the CPU. */
function announce(p: Planned, opts: DecodeOptions, startedBeforeProbe: boolean): void {
  if (p.kind === 'run') {
    const line = fallbackLine(p.hw, opts.hwaccel ?? 'auto');
    if (line) opts.onNotice?.(line);
  }
  opts.onDecodeChoice?.(startedBeforeProbe ? { ...p.choice, startedBeforeProbe } : p.choice);
}

async function* runPlanned(
  src: ResolvedSource,
  p: Planned,
  opts: DecodeOptions,
): AsyncGenerator<Frame, void, undefined> {
  const { limits } = p;
  announce(p, opts, false);
  if (p.kind === 'seek') {
    yield* seekFrames(src, p.info, p.settings, limits, opts.signal);
    return;
  }
  const runPlan = async function* (plan: DecodePlan): AsyncGenerator<Frame, void, undefined> {
    const run = new DecodeRun(src, plan, limits, opts.signal, p.info.startTimeSec);
    try {
      yield* run.frames();
    } finally {
      await run.close();
    }
  };
  if (p.hw.use === 'cuda') {
    let yielded = 0;
    try {
      for await (const f of runPlan(buildDecodePlan(src, p.info, { ...p.planned, hw: 'cuda' }, limits))) {
        yielded += 1;
        yield f;
      }
      return;
    } catch (err) {
      // NVDEC refusing this stream (profile, size) shows before the first frame: decode it on
      // the CPU instead, and say so.
      if (yielded > 0 || !(err instanceof ClipstreamError && err.code === 'CLIPSTREAM_DECODE_FAILED'))
        throw err;
      opts.onNotice?.(`GPU decode failed (${err.message}); decoding this video on the CPU`);
    }
  }
  yield* runPlan(p.plan);
}

async function decodeChoice(
  src: ResolvedSource,
  info: ProbeInfo,
  sampling: DecodeSettings['sampling'],
  opts: DecodeOptions,
): Promise<DecodeChoice> {
  const forced = opts.decode ?? 'auto';
  if (forced !== 'auto') {
    if (forced === 'seek' && sampling.strategy !== 'fps') {
      throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', 'seek decoding needs fps sampling');
    }
    return { mode: forced, reason: 'chosen by the caller' };
  }
  const input = { sampling, fps: info.fps, codec: info.codec, durationSec: info.durationSec };
  // The keyframe probe reads packet flags only; a failure just leaves keyframe modes out.
  // A source of unknown length (a live stream) is never read ahead for its keyframes: that
  // would hold the decode back (and open a second connection) for the probe's whole window.
  // A local file's was read by the probe itself, beside its header read (probe.ts).
  const keyframes =
    info.keyframes ??
    (wantsKeyframeProbe(input) && info.durationSec > 0
      ? await probeKeyframes(src, info, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.limits ? { limits: opts.limits } : {}),
        }).catch((err: unknown) => {
          if (opts.signal?.aborted) throw err;
          return undefined;
        })
      : undefined);
  return chooseDecode({ ...input, keyframes });
}

/**
 * `seek` mode: one ffmpeg run per 1/fps bucket, each seeking to the bucket's start and
 * decoding one frame; the time limit covers all runs together. A frame already yielded (two
 * targets inside one frame) is not yielded again.
 */
async function* seekFrames(
  src: ResolvedSource,
  info: ProbeInfo,
  settings: DecodeSettings & { threads: number },
  limits: MediaLimits,
  signal: AbortSignal | undefined,
): AsyncGenerator<Frame, void, undefined> {
  if (settings.sampling.strategy !== 'fps') throw new TypeError('seek mode needs fps sampling');
  const deadline = performance.now() + limits.timeoutMs;
  let index = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const seekSec of seekTargets(settings.sampling.fps, info.durationSec)) {
    const left = Math.round(deadline - performance.now());
    if (left <= 0) {
      throw new ClipstreamError(
        'CLIPSTREAM_DECODE_TIMEOUT',
        `decoding took longer than ${limits.timeoutMs} ms; ffmpeg was killed`,
      );
    }
    const plan = buildDecodePlan(src, info, { ...settings, decode: 'seek', seekSec }, limits);
    const run = new DecodeRun(src, plan, { ...limits, timeoutMs: left }, signal, info.startTimeSec);
    try {
      for await (const f of run.frames()) {
        if (f.timeSec <= last) continue;
        last = f.timeSec;
        if (index >= limits.maxFrames) {
          throw new ClipstreamError(
            'CLIPSTREAM_SOURCE_TOO_LARGE',
            `sampling produced more than ${limits.maxFrames} frames`,
          );
        }
        yield { ...f, index };
        index += 1;
      }
    } catch (err) {
      // A target past the last frame decodes nothing; any other failure is the video's.
      if (!(err instanceof ClipstreamError && err.code === 'CLIPSTREAM_NO_FRAMES')) throw err;
    } finally {
      await run.close();
    }
  }
  if (index === 0) throw new ClipstreamError('CLIPSTREAM_NO_FRAMES', 'sampling produced no frames');
}

class DecodeRun {
  private readonly out: PassThrough;
  private readonly command: FfmpegCommand;
  private readonly tail = new StderrTail();
  private readonly pts: number[] = [];
  private nextReport = 0;
  private startUs: number;
  private badReport: string | undefined;
  private started = false;
  private finished = false;
  private outEnded = false;
  private exitError: Error | null = null;
  private readonly done: Promise<void>;
  private stopReason: StopReason | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private clockTimer: NodeJS.Timeout | undefined;
  private clockStartedAt = 0;
  private clockLeftMs: number;
  private dirty = false;
  private waiter: (() => void) | undefined;
  private readonly onAbort = (): void => this.stop('aborted');
  private readonly onReadable = (): void => this.notify();

  constructor(
    src: ResolvedSource,
    private readonly plan: DecodePlan,
    private readonly limits: MediaLimits,
    private readonly signal: AbortSignal | undefined,
    startTimeSec: number,
  ) {
    this.clockLeftMs = limits.timeoutMs;
    this.startUs = Math.round(startTimeSec * 1e6);
    // Room for a frame or 64 KiB, whichever is larger: bounded, never the whole video.
    this.out = new PassThrough({ highWaterMark: Math.max(plan.frameBytes, 64 * 1024), emitClose: false });
    this.out.on('readable', this.onReadable);
    this.out.on('error', () => {}); // only ever destroyed by us; errors surface through ffmpeg's exit
    this.out.on('end', () => {
      this.outEnded = true;
      this.notify();
    });
    let finish!: () => void;
    this.done = new Promise((resolve) => (finish = resolve));
    this.command = ffmpeg({ stdoutLines: 20 })
      .input(src.input)
      .inputOptions(plan.inputOptions)
      .videoFilters(plan.filters)
      .outputOptions(plan.outputOptions)
      .output(this.out, { end: true })
      .on('start', () => {
        this.started = true;
        if (this.stopReason !== undefined) this.kill();
      })
      .on('stderr', (line: string) => this.onStderr(line))
      .on('end', () => this.onFinish(null, finish))
      .on('error', (err: Error) => this.onFinish(err, finish));
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) this.stop('aborted');
    this.command.run();
  }

  /** The container's start time, once the probe has told it (a run started before the probe). */
  setStartTime(startTimeSec: number): void {
    this.startUs = Math.round(startTimeSec * 1e6);
  }

  async *frames(): AsyncGenerator<Frame, void, undefined> {
    const size = this.plan.frameBytes;
    let frame = new Uint8Array(size);
    let filled = 0;
    let index = 0;
    this.resumeClock();
    for (;;) {
      this.throwIfStopped();
      const chunk = this.out.read() as Buffer | null;
      if (chunk === null) {
        if (this.outEnded) break;
        await this.changed();
        continue;
      }
      // Whole-chunk copies into the frame buffer; a chunk may end one frame and start the next.
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(size - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled < size) break;
        const ptsUs = await this.nextPts();
        if (index >= this.limits.maxFrames) this.stop('too-many-frames');
        this.throwIfStopped();
        this.pauseClock();
        yield { index, timeSec: (ptsUs - this.startUs) / 1e6, data: frame };
        this.resumeClock();
        index += 1;
        frame = new Uint8Array(size);
        filled = 0;
      }
    }
    await this.done;
    this.throwIfStopped();
    if (this.exitError !== null) throw this.failure(this.exitError.message);
    if (filled > 0) throw this.failure(`ffmpeg output ended inside a frame (${filled} of ${size} bytes)`);
    if (this.pts.length > 0) throw this.failure('ffmpeg reported more frames than it wrote');
    if (index === 0) throw new ClipstreamError('CLIPSTREAM_NO_FRAMES', 'sampling produced no frames');
  }

  /** Stops ffmpeg if it still runs and waits until it has exited. Idempotent. */
  async close(): Promise<void> {
    this.pauseClock();
    this.signal?.removeEventListener('abort', this.onAbort);
    // Drain whatever is left so that ffmpeg is never blocked on a full pipe and its stdout
    // reaches EOF (which releases the pipe); the data is dropped.
    this.out.off('readable', this.onReadable);
    this.out.resume();
    if (!this.finished) {
      this.stop('closed');
      await this.done;
    }
    clearTimeout(this.killTimer);
  }

  private onStderr(line: string): void {
    const m = REPORT.exec(line);
    if (m && m[1] === this.plan.tapName) {
      const n = Number(m[2]);
      const pts = Number(m[3]);
      if (n !== this.nextReport || !Number.isSafeInteger(pts)) {
        this.badReport ??= `unexpected frame report ${JSON.stringify(line.slice(0, 120))}`;
        this.stop('bad-report');
      } else {
        this.nextReport += 1;
        this.pts.push(pts);
      }
      this.notify();
      return;
    }
    if (line.startsWith(`[${this.plan.tapName} @ `)) return; // the tap's other lines (side data, config)
    this.tail.pushLine(line);
  }

  private onFinish(err: Error | null, finish: () => void): void {
    if (this.finished) return;
    this.finished = true;
    this.exitError = err;
    this.pauseClock();
    clearTimeout(this.killTimer);
    // When ffmpeg never ran nothing will be piped. Otherwise its stdout reaches EOF once we have
    // read what is left in the pipe, however long the consumer takes: never cut that short.
    if (!this.started) this.outEnded = true;
    finish();
    this.notify();
  }

  private async nextPts(): Promise<number> {
    for (;;) {
      const pts = this.pts.shift();
      if (pts !== undefined) return pts;
      this.throwIfStopped();
      if (this.finished) {
        throw this.failure(this.exitError?.message ?? 'ffmpeg wrote a frame without reporting its timestamp');
      }
      await this.changed();
    }
  }

  private stop(reason: StopReason): void {
    if (this.stopReason !== undefined) return;
    if (reason === 'timeout' && this.finished) return;
    this.stopReason = reason;
    this.kill();
    this.notify();
  }

  private kill(): void {
    if (!this.started || this.finished) return;
    this.command.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      if (!this.finished) this.command.kill('SIGKILL');
    }, KILL_GRACE_MS);
  }

  private throwIfStopped(): void {
    switch (this.stopReason) {
      case undefined:
      case 'closed':
        return;
      case 'aborted':
        throw new ClipstreamError('CLIPSTREAM_ABORTED', 'decode aborted');
      case 'timeout':
        throw new ClipstreamError(
          'CLIPSTREAM_DECODE_TIMEOUT',
          `decoding took longer than ${this.limits.timeoutMs} ms; ffmpeg was killed`,
        );
      case 'too-many-frames':
        throw new ClipstreamError(
          'CLIPSTREAM_SOURCE_TOO_LARGE',
          `sampling produced more than ${this.limits.maxFrames} frames`,
        );
      case 'bad-report':
        throw new ClipstreamError(
          'CLIPSTREAM_DECODE_FAILED',
          `cannot read frame timestamps: ${this.badReport ?? ''}`,
        );
    }
  }

  private failure(fallback: string): ClipstreamError {
    const line = this.tail.lastErrorLine();
    const detail =
      this.exitError !== null && line !== undefined ? line : (fallback.split('\n')[0] ?? fallback);
    return classifyFfmpegFailure('CLIPSTREAM_DECODE_FAILED', `ffmpeg failed: ${detail}`, detail);
  }

  private resumeClock(): void {
    if (this.clockTimer !== undefined || this.finished) return;
    this.clockStartedAt = performance.now();
    this.clockTimer = setTimeout(() => this.stop('timeout'), Math.max(0, this.clockLeftMs));
  }

  private pauseClock(): void {
    if (this.clockTimer === undefined) return;
    clearTimeout(this.clockTimer);
    this.clockTimer = undefined;
    this.clockLeftMs -= performance.now() - this.clockStartedAt;
  }

  private notify(): void {
    this.dirty = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolves at the next change of state (data, a report, exit, a stop); at once if one is pending. */
  private changed(): Promise<void> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiter = () => {
        this.dirty = false;
        resolve();
      };
    });
  }
}
