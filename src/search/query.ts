/**
 * `clipstream search`: the query is embedded once (sentence and word tokens); the HNSW index
 * gives the frames nearest to the sentence vector, enough of them to name the candidate videos;
 * then the matcher of design.md section 4 runs over each candidate video's stored frame track
 * (frame-word evidence, calibration, moments), and the moments of every candidate are ranked.
 */
import { checkText } from '../limits.js';
import { matchVideo, sigmoid, typicalSpacing } from '../match/index.js';
import type { Calibration, MatchOptions } from '../match/index.js';
import { ClipstreamError } from '../errors.js';
import { SEARCH_SCHEMA } from './schema.js';
import type { SearchHit, SearchResult } from './schema.js';
import type { AnnFrame, Store, StoredVideo } from './store.js';

/** What search needs of the embed stage (the Embedder has it). */
export interface QueryEncoder {
  readonly pack: { readonly sha256: string; readonly manifest: { readonly name: string } };
  embedTexts(
    texts: readonly string[],
  ): Promise<readonly { sentence: Float32Array; words: Float32Array; wordCount: number }[]>;
}

export interface SearchSettings {
  readonly top: number;
  /** candidate videos = max(10, top * candidateFactor) */
  readonly candidateFactor: number;
  readonly maxCandidateFrames: number;
  /** false: rank moments by ANN frame similarity alone (no matcher), for comparison */
  readonly rerank: boolean;
  readonly match: MatchOptions;
  readonly calibration: Calibration;
}

/** Distinct videos of the nearest frames, best first, with their frames. */
async function candidates(
  store: Store,
  sentence: Float32Array,
  wanted: number,
  maxFrames: number,
): Promise<Map<string, AnnFrame[]>> {
  let limit = Math.min(maxFrames, Math.max(100, wanted * 20));
  for (;;) {
    const frames = await store.nearestFrames(sentence, limit);
    const byVideo = new Map<string, AnnFrame[]>();
    for (const f of frames) {
      const list = byVideo.get(f.videoId);
      if (list) list.push(f);
      else if (byVideo.size < wanted) byVideo.set(f.videoId, [f]);
    }
    // Fewer videos than wanted while the index had more rows to give: ask for more frames.
    if (byVideo.size >= wanted || frames.length < limit || limit >= maxFrames) return byVideo;
    limit = Math.min(maxFrames, limit * 4);
  }
}

/**
 * Moments from the ANN frames alone (no matcher): the retrieved frames whose calibrated sentence
 * score reaches the moment threshold, merged into runs, scored by their best similarity.
 */
function annMoments(video: StoredVideo, frames: AnnFrame[], s: SearchSettings): Omit<SearchHit, 'uri'>[] {
  const mergeGapSec = s.match.mergeGapSec;
  const spacing = typicalSpacing(video.track.times);
  const { scale, bias } = s.calibration.sentence;
  const sorted = frames
    .filter((f) => sigmoid(scale * f.similarity + bias) >= s.match.momentThreshold)
    .sort((a, b) => a.timeSec - b.timeSec);
  const out: Omit<SearchHit, 'uri'>[] = [];
  let cur: { start: number; end: number; peak: number; score: number } | undefined;
  for (const f of sorted) {
    const end = f.timeSec + spacing;
    if (cur && f.timeSec - cur.end <= Math.max(mergeGapSec, spacing * 1.01)) {
      cur.end = end;
      if (f.similarity > cur.score) {
        cur.score = f.similarity;
        cur.peak = f.timeSec;
      }
    } else {
      if (cur) out.push(hitOf(video.videoId, cur));
      cur = { start: f.timeSec, end, peak: f.timeSec, score: f.similarity };
    }
  }
  if (cur) out.push(hitOf(video.videoId, cur));
  return out;
}

function hitOf(videoId: string, m: { start: number; end: number; peak: number; score: number }) {
  const r = (x: number) => Math.round(x * 1e4) / 1e4;
  return { videoId, startSec: r(m.start), endSec: r(m.end), peakSec: r(m.peak), score: r(m.score) };
}

export async function searchStore(
  store: Store,
  encoder: QueryEncoder,
  text: string,
  s: SearchSettings,
): Promise<SearchResult> {
  checkText(text, 'query');
  const held = await store.model();
  const model = { name: encoder.pack.manifest.name, sha256: encoder.pack.sha256 };
  if (held && held.sha256 !== model.sha256) {
    throw new ClipstreamError(
      'CLIPSTREAM_STORE_MODEL_MISMATCH',
      `the store holds embeddings of model ${held.name} (sha256 ${held.sha256.slice(0, 12)}); the query model is ${model.name} (sha256 ${model.sha256.slice(0, 12)}): search with --model set to the store's pack`,
    );
  }
  const result: SearchResult = { schema: SEARCH_SCHEMA, query: text, model, hits: [] };
  if (!held) return result;
  const [vec] = await encoder.embedTexts([text]);
  if (!vec) return result;
  const wanted = Math.max(10, s.top * s.candidateFactor);
  const cands = await candidates(store, vec.sentence, wanted, s.maxCandidateFrames);
  const videos = await store.videos([...cands.keys()]);
  const hits: SearchHit[] = [];
  for (const [videoId, frames] of cands) {
    const video = videos.get(videoId);
    if (!video) continue;
    const uri = video.uri ?? null;
    if (!s.rerank) {
      for (const m of annMoments(video, frames, s)) hits.push({ ...m, uri });
      continue;
    }
    const [q] = matchVideo(
      video.track,
      [{ id: 'q', text, vectors: vec }],
      [],
      s.calibration,
      s.match,
    ).queries;
    if (!q || !q.matched) continue;
    for (const m of q.moments) hits.push({ videoId, uri, ...m });
  }
  hits.sort((a, b) => b.score - a.score || b.endSec - b.startSec - (a.endSec - a.startSec));
  result.hits = hits.slice(0, s.top);
  return result;
}
