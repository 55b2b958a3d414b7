import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadConfig } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { DEFAULT_SAMPLING, PolicyProxy, checkUri, parseSampling, sourcePolicyFor } from '../frames/index.js';
import { isLiveUri } from '../live/source.js';
import { createLogger } from '../log.js';
import { contextFromConfig, processVideo } from '../pipeline/index.js';
import { parse, positiveNumber, readLines, rtspTransportFlag, samplingFlags } from './common.js';
import { toTable, toWebVtt } from './format.js';
import { openRuntime } from './runtime.js';
import { RUN, usage } from './flags.js';

const OPTIONS = RUN.flags;

export const RUN_USAGE = usage(RUN);

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
  const sampling = parseSampling(samplingFlags(values.fps, values.sampling) ?? DEFAULT_SAMPLING);
  const queryTexts = [...(values.query ?? [])];
  if (values['queries-file']) queryTexts.push(...(await readLines(values['queries-file'], 'queries file')));
  const captions = values['captions-file'] ? await readLines(values['captions-file'], 'captions file') : [];
  if (values['rtsp-transport'] !== undefined && !/^rtsp:/i.test(uri))
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', '--rtsp-transport applies to rtsp:// sources only');
  if (isLiveUri(uri)) {
    if (format !== 'json' || values.out)
      throw new ClipstreamError(
        'CLIPSTREAM_BAD_ARGUMENT',
        'a live source prints NDJSON: --format and --out do not apply',
      );
    const windowSec = positiveNumber(values['window-sec'], '--window-sec');
    const rtspTransport = rtspTransportFlag(values['rtsp-transport']);
    const { runLive } = await import('./live-run.js');
    return runLive({
      uri,
      queries: queryTexts,
      captions,
      sampling,
      model: values.model,
      windowSec,
      rtspTransport,
    });
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

  const embedder = await openRuntime(config, log);
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
      contextFromConfig('cli', config, embedder, log, {
        ...(proxy ? { proxy } : {}),
        ...(progress ? { onProgress: progress } : {}),
      }),
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
