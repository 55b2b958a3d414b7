import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';

/**
 * Search settings (design.md 3.7; docs/search.md). Flags override the environment
 * (`CLIPSTREAM_STORE`, `CLIPSTREAM_SEARCH_PORT`, ...), which overrides these defaults.
 */
export const SearchOptionsSchema = z.object({
  /**
   * The store: a `postgres://` (or `postgresql://`) URL of a PostgreSQL server with pgvector, or
   * a folder for the embedded store (PGlite with pgvector). Default `~/.clipstream/store`.
   */
  store: z
    .string()
    .min(1)
    .default(join(homedir(), '.clipstream', 'store')),
  /** Most hits returned by one search. Default 10. */
  top: z.coerce.number().int().min(1).max(1000).default(10),
  /**
   * Candidate videos re-ranked by the matcher per search, as a multiple of `top` (at least 10).
   * Default 3.
   */
  candidateFactor: z.coerce.number().int().min(1).max(100).default(3),
  /** Most frames taken from the ANN index for one search. Default 4000. */
  maxCandidateFrames: z.coerce.number().int().min(10).max(100_000).default(4000),
  /** Port of `clipstream serve`. Default 8470. */
  port: z.coerce.number().int().min(0).max(65535).default(8470),
  /** Address `clipstream serve` listens on. Default 127.0.0.1. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Thumbnails kept in memory by `clipstream serve`. Default 256. */
  thumbnailCache: z.coerce.number().int().min(0).max(100_000).default(256),
});

export type SearchOptions = z.infer<typeof SearchOptionsSchema>;

/** Environment variable of each setting. */
export const SEARCH_ENV: Record<keyof SearchOptions, string> = {
  store: 'CLIPSTREAM_STORE',
  top: 'CLIPSTREAM_SEARCH_TOP',
  candidateFactor: 'CLIPSTREAM_SEARCH_CANDIDATE_FACTOR',
  maxCandidateFrames: 'CLIPSTREAM_SEARCH_MAX_CANDIDATE_FRAMES',
  port: 'CLIPSTREAM_SEARCH_PORT',
  host: 'CLIPSTREAM_SEARCH_HOST',
  thumbnailCache: 'CLIPSTREAM_SEARCH_THUMBNAIL_CACHE',
};

/** Flags over the environment over the defaults; a bad value is one CLIPSTREAM_BAD_CONFIG line. */
export function loadSearchOptions(
  flags: Partial<Record<keyof SearchOptions, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): Readonly<SearchOptions> {
  const input: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const key of Object.keys(SEARCH_ENV) as (keyof SearchOptions)[]) {
    const fromEnv = env[SEARCH_ENV[key]];
    if (flags[key] !== undefined) {
      input[key] = flags[key];
      origin[key] = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      input[key] = fromEnv;
      origin[key] = SEARCH_ENV[key];
    }
  }
  const parsed = SearchOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '') as keyof SearchOptions;
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_CONFIG',
      `${origin[key] ?? SEARCH_ENV[key] ?? key}: ${issue.message}`,
    );
  }
  return Object.freeze(parsed.data);
}

export const DEFAULT_SEARCH_OPTIONS: Readonly<SearchOptions> = Object.freeze(SearchOptionsSchema.parse({}));

/** Whether a store setting names a PostgreSQL server (else it is an embedded store's folder). */
export function isServerStore(store: string): boolean {
  return /^postgres(ql)?:\/\//i.test(store);
}
