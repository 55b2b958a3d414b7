import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadConfig, matchOptionsOf } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { PolicyProxy, checkUri, sourcePolicyFor } from '../frames/index.js';
import type { Sampling } from '../frames/index.js';
import { isLiveUri } from '../live/source.js';
import { createLogger } from '../log.js';
import { calibrationFor, processVideo } from '../pipeline/index.js';
import { parse, positiveNumber, readLines } from './common.js';
import { toTable, toWebVtt } from './format.js';
import { openRuntime } from './runtime.js';

const OPTIONS = {
  query: { type: 'string', multiple: true },
  'queries-file': { type: 'string' },
  'captions-file': { type: 'string' },
  model: { type: 'string' },
  fps: { type: 'string' },
  sampling: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'window-sec': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const RUN_USAGE = `Usage: clipstream run <video-path-or-url> [--query TEXT]... [--queries-file F] [--captions-file F]
                      [--model DIR] [--fps N | --sampling fps|keyframes|scene] [--format json|vtt|table]
                      [--out FILE] [--window-sec N]
Runs the whole pipeline on one video without Kafka and prints one result document.
A live source (rtsp://, rtsps://, http(s)://....m3u8) prints one window document per line
(NDJSON) until it ends or SIGINT, the final document last (see docs/live.md).
`;

const DEFAULT_FPS = 1;
const SCENE_DEFAULTS = { threshold: 0.3, minSpacingSec: 0.5 };

export function samplingFrom(fps: number | undefined, strategy: string | undefined): Sampling {
  if (strategy !== undefined && !['fps', 'keyframes', 'scene'].includes(strategy)) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `--sampling must be fps, keyframes or scene, got '${strategy}'`,
    );
  }
  if (fps !== undefined && strategy !== undefined && strategy !== 'fps') {
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', '--fps only goes with --sampling fps');
  }
  if (fps !== undefined && fps > 120)
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', '--fps must be at most 120');
  if (strategy === 'keyframes') return { strategy: 'keyframes' };
  if (strategy === 'scene') return { strategy: 'scene', ...SCENE_DEFAULTS };
  return { strategy: 'fps', fps: fps ?? DEFAULT_FPS };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      'run needs exactly one video path or URL (see clipstream run --help)',
    );
  }
  const uri = positionals[0] as string;
  const format = values.format ?? 'json';
  if (!['json', 'vtt', 'table'].includes(format)) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_ARGUMENT',
      `--format must be json, vtt or table, got '${format}'`,
    );
  }
  const sampling = samplingFrom(positiveNumber(values.fps, '--fps'), values.sampling);
  const queryTexts = [...(values.query ?? [])];
  if (values['queries-file']) queryTexts.push(...(await readLines(values['queries-file'], 'queries file')));
  const captions = values['captions-file'] ? await readLines(values['captions-file'], 'captions file') : [];
  if (isLiveUri(uri)) {
    if (format !== 'json' || values.out)
      throw new ClipstreamError(
        'CLIPSTREAM_BAD_ARGUMENT',
        'a live source prints NDJSON: --format and --out do not apply',
      );
    const windowSec = positiveNumber(values['window-sec'], '--window-sec');
    const { runLive } = await import('./live-run.js');
    return runLive({ uri, queries: queryTexts, captions, sampling, model: values.model, windowSec });
  }
  const config = loadConfig({ model: values.model, logLevel: 'warn', logFormat: 'text' });
  const log = createLogger({ level: config.logLevel, format: 'text' });
  const policy = sourcePolicyFor('cli', config);
  // http(s) sources: every connection ffmpeg makes goes through the policy proxy (closed below).
  // A refusal becomes the one error line, so the proxy's own log line stays quiet here.
  const proxy =
    checkUri(uri, policy) === 'http'
      ? new PolicyProxy(createLogger({ level: 'error', format: 'text' }))
      : undefined;

  const embedder = await openRuntime(
    {
      model: config.model,
      device: config.device,
      threads: config.threads,
      batchSize: config.batchSize,
      batchWaitMs: config.batchWaitMs,
    },
    log,
  );
  const abort = new AbortController();
  const onSignal = () => abort.abort(new ClipstreamError('CLIPSTREAM_ABORTED', 'interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = process.stderr.isTTY
    ? (done: number, total: number | undefined) => {
        const bar = total ? `${Math.min(done, total)}/${total}` : String(done);
        process.stderr.write(`\rclipstream: embedding frames ${bar} `);
      }
    : undefined;
  try {
    const { result } = await processVideo(
      {
        videoId: basename(uri.replace(/[?#].*$/, '')) || 'video',
        uri,
        queries: queryTexts.map((text, i) => ({ id: `q${i + 1}`, text })),
        captions,
        sampling,
      },
      {
        embedder,
        policy,
        ...(proxy ? { proxy } : {}),
        limits: { timeoutMs: config.decodeTimeoutSec * 1000 },
        match: matchOptionsOf(config),
        calibration: calibrationFor(embedder.pack.manifest),
        log,
        framesInFlight: config.maxFramesInFlight,
        ...(progress ? { onProgress: progress } : {}),
      },
      abort.signal,
    );
    if (progress) process.stderr.write('\r\x1b[K');
    const text =
      format === 'vtt'
        ? toWebVtt(result)
        : format === 'table'
          ? toTable(result)
          : `${JSON.stringify(result, null, 2)}\n`;
    if (values.out) await writeFile(values.out, text);
    else process.stdout.write(text);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await proxy?.close();
    await embedder.close();
  }
}
