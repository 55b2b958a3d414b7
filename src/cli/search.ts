import { loadConfig, matchOptionsOf } from '../config.js';
import type { Config } from '../config.js';
import { ClipstreamError } from '../errors.js';
import { Embedder, embedderOptions, loadModelPack } from '../embed/index.js';
import type { Logger } from '../log.js';
import { createLogger } from '../log.js';
import { calibrationFor } from '../pipeline/index.js';
import { Store, loadSearchOptions, searchStore } from '../search/index.js';
import type { SearchOptions, SearchResult, SearchSettings } from '../search/index.js';
import { BUNDLED_MODEL, parse } from './common.js';
import { SEARCH, usage } from './flags.js';

const OPTIONS = SEARCH.flags;

export const SEARCH_USAGE = usage(SEARCH);

/** The query side of the embed stage: the model pack's text encoder (no ffmpeg needed). */
export async function openQueryEncoder(config: Readonly<Config>, log: Logger): Promise<Embedder> {
  const pack = await loadModelPack(config.model ?? BUNDLED_MODEL);
  return Embedder.open(
    pack,
    embedderOptions({
      device: config.device,
      threads: config.threads,
      // Queries need the text encoder only: one image session, not one per lane.
      encoderLanes: 1,
      batchSize: config.batchSize,
      batchWaitMs: config.batchWaitMs,
    }),
    log,
  );
}

export function searchSettings(
  o: Readonly<SearchOptions>,
  config: Readonly<Config>,
  encoder: Embedder,
  rerank = true,
): SearchSettings {
  return {
    top: o.top,
    candidateFactor: o.candidateFactor,
    maxCandidateFrames: o.maxCandidateFrames,
    rerank,
    match: matchOptionsOf(config),
    calibration: calibrationFor(encoder.pack.manifest),
  };
}

export function toSearchTable(r: SearchResult): string {
  const lines = [`query   ${r.query}`, `model   ${r.model.name} (${r.model.sha256.slice(0, 12)})`, ''];
  if (r.hits.length === 0) lines.push('no moments found');
  else {
    lines.push('rank  score   start    end      peak     video  uri');
    r.hits.forEach((h, i) => {
      const t = (x: number) => `${x.toFixed(1)}s`.padEnd(8);
      lines.push(
        `${String(i + 1).padEnd(5)} ${h.score.toFixed(3).padEnd(7)} ${t(h.startSec)} ${t(h.endSec)} ${t(h.peakSec)} ${h.videoId}  ${h.uri ?? '-'}`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

export async function searchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(SEARCH_USAGE);
    return 0;
  }
  if (positionals.length !== 1)
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', 'search takes one query text (quote it)');
  const format = values.format ?? 'json';
  if (format !== 'json' && format !== 'table')
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `--format must be json or table, got '${format}'`);
  const opts = loadSearchOptions({ store: values.store, top: values.top });
  const config = loadConfig({ model: values.model, logLevel: 'warn', logFormat: 'text' });
  const log = createLogger({ level: 'warn', format: 'text' });
  const text = positionals[0] as string;
  const store = await Store.open(opts.store);
  let encoder: Embedder | undefined;
  try {
    encoder = await openQueryEncoder(config, log);
    const result = await searchStore(
      store,
      encoder,
      text,
      searchSettings(opts, config, encoder, !values['ann-only']),
    );
    process.stdout.write(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : toSearchTable(result));
    return 0;
  } finally {
    await encoder?.close().catch(() => undefined);
    await store.close();
  }
}
