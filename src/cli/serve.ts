import { loadConfig } from '../config.js';
import { ClipstreamError } from '../errors.js';
import type { Embedder } from '../embed/index.js';
import { sourcePolicyFor } from '../frames/index.js';
import { createKafka } from '../ingest/index.js';
import { createLogger, silentLogger } from '../log.js';
import {
  Indexer,
  Store,
  Thumbnails,
  loadSearchOptions,
  searchStore,
  startSearchServer,
} from '../search/index.js';
import type { SearchServer } from '../search/index.js';
import { parse, shutDown } from './common.js';
import { indexerSettings, unlessStopped, untilSignal } from './index.js';

/** A signal came while the indexer was starting: go straight to the shutdown. */
class StoppedBeforeStart extends Error {}
import { openQueryEncoder, searchSettings } from './search.js';
import { SERVE, usage } from './flags.js';

const OPTIONS = SERVE.flags;

export const SERVE_USAGE = usage(SERVE);

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (positionals.length > 0)
    throw new ClipstreamError('CLIPSTREAM_BAD_ARGUMENT', `serve takes no arguments, got '${positionals[0]}'`);
  const opts = loadSearchOptions({ store: values.store, port: values.port, host: values.host });
  const config = loadConfig({ model: values.model, brokers: values.brokers, group: values.group });
  const log = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    base: { service: 'clipstream-serve' },
  });
  const signal = untilSignal(log);
  let failed: unknown;
  let store: Store | undefined;
  let encoder: Embedder | undefined;
  let indexer: Indexer | undefined;
  let server: SearchServer | undefined;
  let thumbnails: Thumbnails | undefined;
  try {
    store = await Store.open(opts.store);
    encoder = await openQueryEncoder(config, log);
    const s = store;
    const e = encoder;
    const runIndexer = values['no-index'] ? false : (values.index ?? s.embedded);
    if (runIndexer) {
      indexer = await unlessStopped(
        Indexer.start({
          kafka: createKafka(config, silentLogger),
          store: s,
          settings: indexerSettings(config),
          log,
          onFatal: (err) => {
            failed = err;
            signal.stop('indexer failed');
          },
        }),
        signal.done,
      );
      if (indexer === undefined) throw new StoppedBeforeStart();
    }
    const base = searchSettings(opts, config, e);
    // The stored URIs came from video events: the worker's source policy applies.
    thumbnails = new Thumbnails(sourcePolicyFor('worker', config), opts.thumbnailCache, log);
    server = await startSearchServer({
      host: opts.host,
      port: opts.port,
      search: (text, top) => searchStore(s, e, text, { ...base, top }),
      videoUri: (id) => s.videoUri(id),
      thumbnails,
      maxTop: 1000,
      defaultTop: opts.top,
      log,
    });
    log.info('serving search', {
      url: `http://${opts.host}:${server.port}/`,
      store: s.where,
      indexing: runIndexer,
    });
    await signal.done;
  } catch (err) {
    if (!(err instanceof StoppedBeforeStart)) failed ??= err;
  }
  try {
    return await shutDown(
      log,
      [
        ['HTTP server', () => server?.close()],
        ['thumbnail policy proxy', () => thumbnails?.close()],
        ['indexer', () => indexer?.close()],
        ['model sessions', () => encoder?.close()],
        ['store', () => store?.close()],
      ],
      failed,
    );
  } finally {
    signal.off();
  }
}
