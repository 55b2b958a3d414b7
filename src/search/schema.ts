import { z } from 'zod';

export const SEARCH_SCHEMA = 'clipstream.search.v1';

/**
 * The search result (design.md 3.7, `clipstream.search.v1`): what `clipstream search` prints and
 * `GET /search` returns. The one definition of it; extra fields may be added, these keep their
 * names and meaning.
 */
export const SearchResultSchema = z.object({
  schema: z.literal(SEARCH_SCHEMA),
  /** the query text, exactly as given */
  query: z.string(),
  /** the model the store's embeddings (and the query's) come from */
  model: z.object({ name: z.string(), sha256: z.string() }),
  /** at most `top` moments across every indexed video, best first */
  hits: z.array(
    z.object({
      videoId: z.string(),
      /** the video's source URI; null until its result document has been indexed */
      uri: z.string().nullable(),
      /** the moment on the source timeline, seconds */
      startSec: z.number(),
      endSec: z.number(),
      /** the moment's best frame, seconds (thumbnails are taken there) */
      peakSec: z.number(),
      /** higher is better; comparable across videos for one model */
      score: z.number(),
    }),
  ),
});

export type SearchResult = z.infer<typeof SearchResultSchema>;
export type SearchHit = SearchResult['hits'][number];
