// Many events over several partitions through one in-process worker: every video gets exactly
// the result the pipeline computes for it, keyed by its id, with its embeddings, and every
// offset ends up committed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { decodeEmbeddings } from '../../../src/ingest/embeddings.js';
import type { Worker } from '../../../src/ingest/index.js';
import type { EmbeddingsChunk } from '../../../src/ingest/embeddings.js';
import { matchOptionsOf } from '../../../src/config.js';
import { calibrationFor, processVideo } from '../../../src/pipeline/index.js';
import { ResultDocumentSchema } from '../../../src/pipeline/result.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { silentLogger } from '../../../src/log.js';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
  committedToEnd,
  json,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  sharedEmbedder,
  startWorker,
  tempDir,
  testConfig,
  videoEvent,
} from './helpers.js';

const n = names('roundtrip');
let media: string;
let worker: Worker | undefined;

before(async () => {
  media = await tempDir('cs-roundtrip-');
  await Promise.all([
    makeClip(join(media, 'a.mp4'), { seconds: 2 }),
    makeClip(join(media, 'b.mp4'), { seconds: 3, color: 'red' }),
    makeClip(join(media, 'c.mp4'), { seconds: 2, color: 'blue', width: 128, height: 96 }),
  ]);
});

after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  await deleteTopics(Object.values(n).filter((t) => !t.includes('group')));
  await removeDir(media);
});

describe('worker round trip', { timeout: 600_000 }, () => {
  it('every event over several partitions gets its exact result, keyed by videoId, and all offsets are committed', async () => {
    const config = testConfig(n, {
      mediaRoot: media,
      topicPartitions: 3,
      maxVideosInFlight: 2,
      publishEmbeddings: true,
    });
    worker = await startWorker(config, 'roundtrip');
    assert.equal(worker.ready, true);

    const clips = ['a.mp4', 'b.mp4', 'c.mp4'];
    const events = Array.from({ length: 12 }, (_, i) => {
      const uri = pathToFileURL(join(media, clips[i % 3]!)).href;
      return {
        videoId: `video-${i}`,
        uri,
        queries:
          i % 2 === 0
            ? [
                { id: 'q1', text: 'a red circle' },
                { id: 'q2', text: `query number ${i}` },
              ]
            : [],
        captions: i % 3 === 0 ? ['a test pattern', 'a red screen', 'a blue screen'] : [],
      };
    });
    await produce(
      config.inputTopic,
      events.map((e) => videoEvent(e.videoId, e.uri, { queries: e.queries, captions: e.captions })),
    );

    const results = await readUntil(
      config.outputTopic,
      (rs) => new Set(rs.map((r) => r.key)).size >= events.length,
    );
    const byId = new Map<string, ResultDocument>();
    for (const r of results) {
      const doc = ResultDocumentSchema.parse(json(r)) as ResultDocument;
      assert.equal(r.key, doc.videoId, 'a result is keyed by its videoId');
      const seen = byId.get(doc.videoId);
      if (seen) assert.equal(seen.resultId, doc.resultId, 'a duplicate carries the same resultId');
      byId.set(doc.videoId, doc);
    }
    assert.deepEqual([...byId.keys()].sort(), events.map((e) => e.videoId).sort());

    // The same request through the pipeline directly gives the same document (timings aside).
    const embedder = await sharedEmbedder();
    for (const e of events) {
      const { result: expected } = await processVideo(
        {
          videoId: e.videoId,
          uri: e.uri,
          queries: e.queries,
          captions: e.captions,
          sampling: { strategy: 'fps', fps: 1 },
        },
        {
          embedder,
          policy: { mediaRoot: media, allowPrivateNetworks: false },
          match: matchOptionsOf(config),
          calibration: calibrationFor(embedder.pack.manifest),
          log: silentLogger,
        },
      );
      const got = byId.get(e.videoId)!;
      assert.equal(got.resultId, expected.resultId, e.videoId);
      assert.deepEqual(got.source, expected.source);
      assert.deepEqual(got.model, expected.model);
      assert.deepEqual(got.sampling, expected.sampling);
      assert.deepEqual(
        got.queries.map((q) => [q.id, q.text, q.matched]),
        expected.queries.map((q) => [q.id, q.text, q.matched]),
      );
      got.queries.forEach((q, i) =>
        assert.ok(Math.abs(q.score - expected.queries[i]!.score) < 1e-3, `${e.videoId} ${q.id} score`),
      );
      assert.deepEqual(
        got.captions.map((c) => [c.startSec, c.endSec, c.text]),
        expected.captions.map((c) => [c.startSec, c.endSec, c.text]),
      );
    }

    // Embeddings: every sampled frame of every video, chunked, before or with the result.
    const embeds = await readUntil(
      config.embeddingsTopic,
      (rs) => new Set(rs.map((r) => r.key)).size >= events.length,
    );
    for (const [videoId, doc] of byId) {
      const chunks = embeds
        .filter((r) => r.key === videoId)
        .map((r) => json<EmbeddingsChunk>(r))
        .filter((c) => c.resultId === doc.resultId);
      const frames = chunks.filter(
        (c, i, all) => all.findIndex((x) => x.chunk.index === c.chunk.index) === i,
      );
      assert.equal(
        frames.reduce((s, c) => s + c.frames, 0),
        doc.sampling.frames,
        videoId,
      );
      for (const c of frames) {
        assert.equal(decodeEmbeddings(c).length, c.frames * doc.model.embedDim);
        assert.equal(c.timesSec.length, c.frames);
      }
    }

    await waitFor(() => committedToEnd(config.group, config.inputTopic), 30_000, 'all offsets committed');
    assert.equal(worker.stats.dlq, 0);
    assert.ok(worker.stats.results >= events.length);
  });
});
