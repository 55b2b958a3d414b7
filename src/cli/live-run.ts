/**
 * `clipstream run <live-uri>`: one window document per line (NDJSON) on stdout until the stream
 * ends or SIGINT/SIGTERM, the final document last (design.md 3.6). A lost source prints its
 * final document, then one error line (CLIPSTREAM_STREAM_LOST) and exits 1.
 */
import { basename } from 'node:path';
import { loadConfig, matchOptionsOf } from '../config.js';
import { ClipstreamError, formatError } from '../errors.js';
import { PolicyProxy, checkUri, sourcePolicyFor } from '../frames/index.js';
import type { RtspTransport, Sampling } from '../frames/index.js';
import { runStream } from '../live/index.js';
import { createLogger } from '../log.js';
import { calibrationFor } from '../pipeline/index.js';
import { openRuntime } from './runtime.js';

export interface LiveRunArgs {
  readonly uri: string;
  readonly queries: readonly string[];
  readonly captions: readonly string[];
  readonly sampling: Sampling;
  readonly model: string | undefined;
  readonly windowSec: number | undefined;
  readonly rtspTransport: RtspTransport | undefined;
}

export async function runLive(a: LiveRunArgs): Promise<number> {
  const config = loadConfig({ model: a.model, logLevel: 'warn', logFormat: 'text' });
  const log = createLogger({ level: config.logLevel, format: 'text' });
  const policy = sourcePolicyFor('cli', config);
  const proxy =
    checkUri(a.uri, policy) === 'http'
      ? new PolicyProxy(createLogger({ level: 'error', format: 'text' }))
      : undefined;
  const embedder = await openRuntime(
    {
      model: config.model,
      device: config.device,
      threads: config.threads,
      encoderLanes: config.encoderLanes,
      batchSize: config.batchSize,
      batchWaitMs: config.batchWaitMs,
    },
    log,
  );
  const abort = new AbortController();
  const onSignal = () => abort.abort(new ClipstreamError('CLIPSTREAM_ABORTED', 'interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await runStream(
      {
        streamId: basename(a.uri.replace(/[?#].*$/, '')) || 'stream',
        uri: a.uri,
        queries: a.queries.map((text, i) => ({ id: `q${i + 1}`, text })),
        captions: a.captions,
        sampling: a.sampling,
        window: { windowSec: a.windowSec ?? config.windowSec, alertCooldownSec: config.alertCooldownSec },
        ...(a.rtspTransport ? { rtspTransport: a.rtspTransport } : {}),
      },
      {
        embedder,
        policy,
        ...(proxy ? { proxy } : {}),
        match: matchOptionsOf(config),
        calibration: calibrationFor(embedder.pack.manifest),
        log,
        source: { stallSec: config.streamStallSec, reconnects: config.streamReconnects },
        onDocument: (doc) =>
          new Promise<void>((resolve) => {
            if (process.stdout.write(`${JSON.stringify(doc)}\n`)) resolve();
            else process.stdout.once('drain', resolve);
          }),
      },
      abort.signal,
    );
    if (outcome.error) {
      process.stderr.write(`clipstream: ${formatError(outcome.error)}\n`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await proxy?.close();
    await embedder.close();
  }
}
