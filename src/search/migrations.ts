/**
 * The store's schema (PostgreSQL with pgvector), one numbered migration after another, each
 * applied once in its own transaction under an advisory lock (several indexers may start at once
 * against one server). Everything lives in the `clipstream` schema.
 *
 * The frame table's vector width is the model's embedding size, so it is created when the first
 * chunk binds the store to a model (`frameTableSql`), not by a migration.
 */
import type { Db, Sql } from './db.js';

export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE clipstream.model (
  id integer PRIMARY KEY CHECK (id = 1),
  name text NOT NULL,
  sha256 text NOT NULL,
  embed_dim integer NOT NULL CHECK (embed_dim > 0)
);
-- The frames of each video come from exactly one result (its current resultId).
CREATE TABLE clipstream.videos (
  video_id text PRIMARY KEY,
  result_id text NOT NULL,
  frames integer NOT NULL DEFAULT 0
);
-- Source metadata from the results topic, per result; kept whichever topic is read first.
CREATE TABLE clipstream.results (
  result_id text PRIMARY KEY,
  video_id text NOT NULL,
  uri text NOT NULL,
  duration_sec double precision
);
`,
  },
];

/** The frame table and its HNSW index (cosine distance), for embeddings of `dim` values. */
export function frameTableSql(dim: number): string {
  const d = Math.trunc(dim);
  return `
CREATE TABLE IF NOT EXISTS clipstream.frames (
  video_id text NOT NULL REFERENCES clipstream.videos (video_id) ON DELETE CASCADE,
  frame_index integer NOT NULL,
  time_sec double precision NOT NULL,
  embedding vector(${d}) NOT NULL,
  PRIMARY KEY (video_id, frame_index)
);
CREATE INDEX IF NOT EXISTS frames_embedding_hnsw ON clipstream.frames
  USING hnsw (embedding vector_cosine_ops);
`;
}

/** Arbitrary key of the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 7_261_937;

async function exec(tx: Sql, sql: string): Promise<void> {
  for (const stmt of sql.split(/;\s*\n/)) {
    const s = stmt.replace(/^\s*--.*$/gm, '').trim();
    if (s.length > 0) await tx.query(s);
  }
}

/** Applies the migrations not yet applied; returns the schema version. */
export async function migrate(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query('CREATE SCHEMA IF NOT EXISTS clipstream');
    await tx.query(
      'CREATE TABLE IF NOT EXISTS clipstream.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM clipstream.schema_migrations')).map((r) =>
        Number(r.version),
      ),
    );
    let version = Math.max(0, ...done);
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await exec(tx, m.sql);
      await tx.query('INSERT INTO clipstream.schema_migrations (version) VALUES ($1)', [m.version]);
      version = Math.max(version, m.version);
    }
    return version;
  });
}

export { exec as execScript };
