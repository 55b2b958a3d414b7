/**
 * The search store: videos, their source metadata and their frame embeddings in PostgreSQL with
 * pgvector (design.md 3.7). Writes are idempotent: a replayed chunk or result changes no row.
 */
import { ClipstreamError } from '../errors.js';
import type { FrameTrack } from '../match/index.js';
import { openDb } from './db.js';
import type { Db, Sql } from './db.js';
import { execScript, frameTableSql, migrate } from './migrations.js';

export interface StoreModel {
  name: string;
  sha256: string;
  embedDim: number;
}

/** One embeddings chunk, decoded (see src/ingest/embeddings.ts). */
export interface ChunkWrite {
  videoId: string;
  resultId: string;
  model: StoreModel;
  firstFrame: number;
  timesSec: readonly number[];
  /** frames x embedDim values */
  embeds: Float32Array;
}

export interface ResultWrite {
  videoId: string;
  resultId: string;
  uri: string;
  durationSec: number | undefined;
  modelSha256: string;
}

export interface AnnFrame {
  videoId: string;
  frameIndex: number;
  timeSec: number;
  /** cosine similarity to the query vector */
  similarity: number;
}

export interface StoredVideo {
  videoId: string;
  resultId: string;
  uri: string | undefined;
  track: FrameTrack;
}

/** pgvector's text form; 9 significant digits give back the same float32. */
export function vectorText(v: Float32Array, offset = 0, dim = v.length): string {
  const parts = new Array<string>(dim);
  for (let k = 0; k < dim; k++) parts[k] = (v[offset + k] as number).toPrecision(9);
  return `[${parts.join(',')}]`;
}

export function parseVector(text: string, out: Float32Array, offset: number): void {
  const parts = text.slice(1, -1).split(',');
  for (let k = 0; k < parts.length; k++) out[offset + k] = Number(parts[k]);
}

export class Store {
  private cachedModel: StoreModel | undefined;

  private constructor(readonly db: Db) {}

  /** Opens (and migrates) the store a setting names: a folder or a postgres:// URL. */
  static async open(store: string): Promise<Store> {
    const db = await openDb(store);
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw wrap('cannot migrate the store', err);
    }
    return new Store(db);
  }

  get where(): string {
    return this.db.where;
  }

  get embedded(): boolean {
    return this.db.embedded;
  }

  /** The model the store holds embeddings of; undefined until the first chunk. */
  async model(): Promise<StoreModel | undefined> {
    if (this.cachedModel) return this.cachedModel;
    const rows = await this.db.query<{ name: string; sha256: string; embed_dim: number }>(
      'SELECT name, sha256, embed_dim FROM clipstream.model WHERE id = 1',
    );
    const r = rows[0];
    if (r) this.cachedModel = { name: r.name, sha256: r.sha256, embedDim: Number(r.embed_dim) };
    return this.cachedModel;
  }

  /** Binds an empty store to a model, or checks that the model is the store's. */
  private async bind(tx: Sql, m: StoreModel): Promise<void> {
    const inserted = await tx.query(
      'INSERT INTO clipstream.model (id, name, sha256, embed_dim) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING id',
      [m.name, m.sha256, m.embedDim],
    );
    if (inserted.length > 0) {
      await execScript(tx, frameTableSql(m.embedDim));
      return;
    }
    const [held] = await tx.query<{ name: string; sha256: string; embed_dim: number }>(
      'SELECT name, sha256, embed_dim FROM clipstream.model WHERE id = 1',
    );
    if (!held || held.sha256 !== m.sha256 || Number(held.embed_dim) !== m.embedDim) {
      throw new ClipstreamError(
        'CLIPSTREAM_STORE_MODEL_MISMATCH',
        `embeddings of model ${m.name} (sha256 ${m.sha256.slice(0, 12)}, ${m.embedDim}-d) refused: the store holds model ${held?.name} (sha256 ${held?.sha256.slice(0, 12)}, ${held?.embed_dim}-d)`,
      );
    }
  }

  /**
   * Writes one chunk in one transaction; returns the frames that were new. A chunk of the video's
   * current result adds only missing frames; a chunk of another result of the video (reprocessed
   * with other settings) replaces the video's frames.
   */
  async writeChunk(c: ChunkWrite): Promise<number> {
    const D = c.model.embedDim;
    const n = c.timesSec.length;
    try {
      return await this.db.transaction(async (tx) => {
        await this.bind(tx, c.model);
        const [current] = await tx.query<{ result_id: string }>(
          'SELECT result_id FROM clipstream.videos WHERE video_id = $1 FOR UPDATE',
          [c.videoId],
        );
        if (!current) {
          await tx.query('INSERT INTO clipstream.videos (video_id, result_id) VALUES ($1, $2)', [
            c.videoId,
            c.resultId,
          ]);
        } else if (current.result_id !== c.resultId) {
          await tx.query('DELETE FROM clipstream.frames WHERE video_id = $1', [c.videoId]);
          await tx.query('UPDATE clipstream.videos SET result_id = $2, frames = 0 WHERE video_id = $1', [
            c.videoId,
            c.resultId,
          ]);
        }
        const idx: number[] = [];
        const vecs: string[] = [];
        for (let i = 0; i < n; i++) {
          idx.push(c.firstFrame + i);
          vecs.push(vectorText(c.embeds, i * D, D));
        }
        const added = await tx.query(
          `INSERT INTO clipstream.frames (video_id, frame_index, time_sec, embedding)
           SELECT $1, u.i, u.t, u.e::vector FROM unnest($2::integer[], $3::double precision[], $4::text[]) AS u(i, t, e)
           ON CONFLICT (video_id, frame_index) DO NOTHING RETURNING frame_index`,
          [c.videoId, idx, [...c.timesSec], vecs],
        );
        if (added.length > 0) {
          await tx.query('UPDATE clipstream.videos SET frames = frames + $2 WHERE video_id = $1', [
            c.videoId,
            added.length,
          ]);
        }
        return added.length;
      });
    } catch (err) {
      throw wrap(`cannot write embeddings of video ${c.videoId}`, err);
    }
  }

  /** Records a result's source metadata (once per resultId); false when it is another model's. */
  async writeResult(r: ResultWrite): Promise<boolean> {
    const model = await this.model();
    if (model && model.sha256 !== r.modelSha256) return false;
    try {
      await this.db.query(
        `INSERT INTO clipstream.results (result_id, video_id, uri, duration_sec) VALUES ($1, $2, $3, $4)
         ON CONFLICT (result_id) DO NOTHING`,
        [r.resultId, r.videoId, r.uri, r.durationSec ?? null],
      );
    } catch (err) {
      throw wrap(`cannot write the result of video ${r.videoId}`, err);
    }
    return true;
  }

  /**
   * Approximate nearest frames to a unit vector by cosine, from the HNSW index. `ef_search` is
   * the candidate list; iterative scans let one query return more rows than it.
   */
  async nearestFrames(query: Float32Array, limit: number): Promise<AnnFrame[]> {
    if (!(await this.model())) return [];
    const ef = Math.min(1000, Math.max(40, limit));
    const rows = await this.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL hnsw.ef_search = ${ef}`);
      await tx.query(`SET LOCAL hnsw.iterative_scan = relaxed_order`);
      await tx.query(`SET LOCAL hnsw.max_scan_tuples = ${Math.max(20_000, limit * 4)}`);
      return tx.query<{ video_id: string; frame_index: number; time_sec: number; d: number }>(
        `SELECT video_id, frame_index, time_sec, embedding <=> $1::vector AS d
         FROM clipstream.frames ORDER BY embedding <=> $1::vector LIMIT $2`,
        [vectorText(query), limit],
      );
    });
    return rows
      .map((r) => ({
        videoId: r.video_id,
        frameIndex: Number(r.frame_index),
        timeSec: Number(r.time_sec),
        similarity: 1 - Number(r.d),
      }))
      .sort((a, b) => b.similarity - a.similarity);
  }

  /** The stored frame tracks (and source metadata) of the given videos. */
  async videos(videoIds: readonly string[]): Promise<Map<string, StoredVideo>> {
    const out = new Map<string, StoredVideo>();
    const model = await this.model();
    if (!model || videoIds.length === 0) return out;
    const D = model.embedDim;
    const heads = await this.db.query<{
      video_id: string;
      result_id: string;
      uri: string | null;
      duration_sec: number | null;
    }>(
      `SELECT v.video_id, v.result_id, r.uri, r.duration_sec FROM clipstream.videos v
       LEFT JOIN clipstream.results r ON r.result_id = v.result_id WHERE v.video_id = ANY($1::text[])`,
      [[...videoIds]],
    );
    const rows = await this.db.query<{ video_id: string; time_sec: number; e: string }>(
      `SELECT video_id, time_sec, embedding::text AS e FROM clipstream.frames
       WHERE video_id = ANY($1::text[]) ORDER BY video_id, frame_index`,
      [[...videoIds]],
    );
    const byVideo = new Map<string, { time_sec: number; e: string }[]>();
    for (const r of rows) {
      let list = byVideo.get(r.video_id);
      if (!list) byVideo.set(r.video_id, (list = []));
      list.push(r);
    }
    for (const h of heads) {
      const list = byVideo.get(h.video_id) ?? [];
      if (list.length === 0) continue;
      const embeds = new Float32Array(list.length * D);
      const times = new Float64Array(list.length);
      list.forEach((r, i) => {
        parseVector(r.e, embeds, i * D);
        times[i] = Number(r.time_sec);
      });
      const last = times[times.length - 1] as number;
      const endSec = h.duration_sec !== null && Number(h.duration_sec) > last ? Number(h.duration_sec) : last;
      out.set(h.video_id, {
        videoId: h.video_id,
        resultId: h.result_id,
        uri: h.uri ?? undefined,
        track: { dim: D, count: list.length, embeds, times, endSec },
      });
    }
    return out;
  }

  /** The source URI of a video's current result (for thumbnails). */
  async videoUri(videoId: string): Promise<string | undefined> {
    const [row] = await this.db.query<{ uri: string | null }>(
      `SELECT r.uri FROM clipstream.videos v JOIN clipstream.results r ON r.result_id = v.result_id
       WHERE v.video_id = $1`,
      [videoId],
    );
    return row?.uri ?? undefined;
  }

  async counts(): Promise<{ videos: number; frames: number }> {
    const [v] = await this.db.query<{ n: string }>('SELECT count(*)::text AS n FROM clipstream.videos');
    const model = await this.model();
    const [f] = model
      ? await this.db.query<{ n: string }>('SELECT count(*)::text AS n FROM clipstream.frames')
      : [{ n: '0' }];
    return { videos: Number(v?.n ?? 0), frames: Number(f?.n ?? 0) };
  }

  /** Idempotent. */
  close(): Promise<void> {
    return this.db.close();
  }
}

function wrap(what: string, err: unknown): ClipstreamError {
  if (err instanceof ClipstreamError) return err;
  return new ClipstreamError('CLIPSTREAM_STORE_FAILED', `${what}: ${(err as Error).message ?? String(err)}`, {
    cause: err,
  });
}
