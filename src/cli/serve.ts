import { loadConfig } from '../config.js';
import { ClipstreamError, formatError } from '../errors.js';
import type { Embedder } from '../embed/index.js';
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
import { parse } from './common.js';
import { indexerSettings, untilSignal } from './index.js';
import { openQueryEncoder, searchSettings } from './search.js';

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  store: { type: 'string' },
  model: { type: 'string' },
  brokers: { type: 'string' },
  group: { type: 'string' },
  index: { type: 'boolean' },
  'no-index': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVE_USAGE = `Usage: clipstream serve [--port P] [--host H] [--store S] [--model DIR] [--brokers ...] [--group G]
                        [--index | --no-index]
Serves the search page (GET /), GET /search?q=TEXT&top=K (clipstream.search.v1 JSON) and
GET /thumbnail?video=ID&t=SEC on 127.0.0.1:8470 by default. With an embedded store it also runs
the indexer (clipstream index) in the same process, since an embedded store belongs to one
process; --no-index serves only; --index runs the indexer for a postgres:// store too.
`;

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
  try {
    store = await Store.open(opts.store);
    encoder = await openQueryEncoder(config, log);
    const s = store;
    const e = encoder;
    const runIndexer = values['no-index'] ? false : (values.index ?? s.embedded);
    if (runIndexer) {
      indexer = await Indexer.start({
        kafka: createKafka(config, silentLogger),
        store: s,
        settings: indexerSettings(config),
        log,
        onFatal: (err) => {
          failed = err;
          signal.stop('indexer failed');
        },
      });
    }
    const base = searchSettings(opts, config, e);
    server = await startSearchServer({
      host: opts.host,
      port: opts.port,
      search: (text, top) => searchStore(s, e, text, { ...base, top }),
      videoUri: (id) => s.videoUri(id),
      thumbnails: new Thumbnails(
        {
          ...(config.mediaRoot ? { mediaRoot: config.mediaRoot } : {}),
          allowPrivateNetworks: config.allowPrivateNetworks,
        },
        opts.thumbnailCache,
      ),
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
    failed ??= err;
  }
  for (const [what, fn] of [
    ['HTTP server', () => server?.close()],
    ['indexer', () => indexer?.close()],
    ['model sessions', () => encoder?.close()],
    ['store', () => store?.close()],
  ] as const) {
    try {
      await fn();
    } catch (err) {
      log.warn(`shutdown: ${what} failed`, { error: formatError(err) });
    }
  }
  signal.off();
  if (failed !== undefined) throw failed;
  return 0;
}
