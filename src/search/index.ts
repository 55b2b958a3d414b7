/**
 * Search across processed videos (design.md 3.7, docs/search.md): the store, the indexer fed
 * from Kafka, the search itself and the HTTP server of `clipstream serve`.
 */
export { Store, vectorText, parseVector } from './store.js';
export type { AnnFrame, ChunkWrite, ResultWrite, StoreModel, StoredVideo } from './store.js';
export { LOCK_FILE } from './db.js';
export { MIGRATIONS } from './migrations.js';
export { Indexer } from './indexer.js';
export type { IndexerOptions, IndexerSettings, IndexerStats } from './indexer.js';
export { parseChunk, parseResultMeta, MAX_EMBED_DIM } from './messages.js';
export { searchStore } from './query.js';
export type { QueryEncoder, SearchSettings } from './query.js';
export { SEARCH_SCHEMA, SearchResultSchema } from './schema.js';
export type { SearchHit, SearchResult } from './schema.js';
export { startSearchServer } from './server.js';
export type { SearchServer, SearchServerOptions } from './server.js';
export { Thumbnails } from './thumbnail.js';
export {
  DEFAULT_SEARCH_OPTIONS,
  SEARCH_ENV,
  SearchOptionsSchema,
  isServerStore,
  loadSearchOptions,
} from './options.js';
export type { SearchOptions } from './options.js';
