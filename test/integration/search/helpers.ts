// Search tests: a PostgreSQL endpoint on loopback served by PGlite (with pgvector) through
// pglite-socket, so `clipstream index`/`search` run the production `pg` driver and SQL; and
// reading the store's rows back through `pg`.
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { freePort } from '../worker/helpers.js';
export { spawnCli } from '../../helpers/cli.js';
export type { Child } from '../../helpers/cli.js';

export interface PgEndpoint {
  readonly url: string;
  close(): Promise<void>;
}

/** A fresh in-memory PGlite served over the Postgres wire protocol on 127.0.0.1. */
export async function startPgEndpoint(): Promise<PgEndpoint> {
  const db = await PGlite.create({ extensions: { vector } });
  const port = await freePort();
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}

export interface FrameRow {
  video_id: string;
  frame_index: number;
  time_sec: number;
  e: string;
  /** the row version: any update of the row changes it */
  xmin: string;
}

/** Every frame row (with its row version) and every video and result row, through `pg`. */
export async function storeRows(
  url: string,
): Promise<{ frames: FrameRow[]; videos: unknown[]; results: unknown[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const [has] = (
      await client.query<{ t: string | null }>("SELECT to_regclass('clipstream.frames')::text AS t")
    ).rows;
    const frames = !has?.t
      ? []
      : (
          await client.query<FrameRow>(
            'SELECT video_id, frame_index, time_sec, embedding::text AS e, xmin::text AS xmin FROM clipstream.frames ORDER BY video_id, frame_index',
          )
        ).rows;
    const videos = (
      await client.query(
        'SELECT video_id, result_id, frames, xmin::text AS xmin FROM clipstream.videos ORDER BY video_id',
      )
    ).rows;
    const results = (
      await client.query(
        'SELECT result_id, video_id, uri, duration_sec, xmin::text AS xmin FROM clipstream.results ORDER BY result_id',
      )
    ).rows;
    return { frames, videos, results };
  } finally {
    await client.end();
  }
}

/** Debian's chromium (CHROMIUM_PATH overrides). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await fn();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
