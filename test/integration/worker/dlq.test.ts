// Every kind of bad event lands exactly once in the DLQ with the right code, its original bytes,
// key and headers, and its offset is committed; the worker goes on with the next event.
// Transient faults are retried with backoff: a flaky source succeeds, a dead one is given up.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Worker } from '../../../src/ingest/index.js';
import type { DlqRecord } from '../../../src/ingest/dlq.js';
import { deleteTopics, waitFor } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
  committedToEnd,
  json,
  makeAudioOnly,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  startWorker,
  tempDir,
  testConfig,
  videoEvent,
  serveClip,
} from './helpers.js';
import type { Names, Sent } from './helpers.js';

let media: string;
let outside: string;
let server: Awaited<ReturnType<typeof serveClip>>;
let base: string;
let flakyHits = 0;
const workers: Worker[] = [];
const used: Names[] = [];

before(async () => {
  media = await tempDir('cs-dlq-');
  outside = await tempDir('cs-outside-');
  await Promise.all([
    makeClip(join(media, 'good.mp4'), { seconds: 2 }),
    makeClip(join(media, 'wide.mp4'), { seconds: 1, width: 480, height: 64 }),
    makeClip(join(outside, 'secret.mp4'), { seconds: 1 }),
    makeAudioOnly(join(media, 'audio.m4a')),
    writeFile(join(media, 'notmedia.mp4'), 'this is not a video\n'.repeat(50)),
  ]);
  // A file whose container is fine but whose frames are zeros.
  await makeClip(join(media, 'faststart.mp4'), { seconds: 2, faststart: true });
  const bytes = await readFile(join(media, 'faststart.mp4'));
  const broken = Buffer.from(bytes);
  broken.fill(0, broken.indexOf('mdat') + 4);
  await writeFile(join(media, 'broken.mp4'), broken);

  // A stalled request times out in ffmpeg ("Connection timed out"): SOURCE_UNAVAILABLE.
  server = await serveClip(
    join(media, 'good.mp4'),
    (url) => url === '/down.mp4' || (url === '/flaky.mp4' && ++flakyHits <= 2),
  );
  base = server.base;
});

after(async () => {
  for (const w of workers) await w.close();
  await closeSharedEmbedder();
  await server.close();
  await deleteTopics(used.flatMap((n) => [n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]));
  await removeDir(media);
  await removeDir(outside);
});

const file = (name: string) => pathToFileURL(join(media, name)).href;
const ev = (id: string, uri: string, extra: Record<string, unknown> = {}) => videoEvent(id, uri, extra);

describe('dead-letter queue', { timeout: 600_000 }, () => {
  it('each bad event produces one DLQ record with its code, then the offset is committed and the worker goes on', async () => {
    const n = names('dlq');
    used.push(n);
    const config = testConfig(n, { mediaRoot: media, topicPartitions: 1, maxMessageBytes: 20_000 });
    workers.push(await startWorker(config, 'dlq', { limits: { maxWidth: 400 } }));

    const cases: [Sent, string][] = [
      [
        {
          key: 'k-json',
          value: '{"schema": "clipstream.video.v1", ',
          headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', custom: 'kept' },
        },
        'CLIPSTREAM_BAD_EVENT_JSON',
      ],
      [{ key: 'k-binary', value: Buffer.from([0xff, 0x00, 0xfe, 0x01]) }, 'CLIPSTREAM_BAD_EVENT_JSON'],
      [{ key: 'k-empty', value: null }, 'CLIPSTREAM_BAD_EVENT_JSON'],
      [
        { key: 'k-schema', value: JSON.stringify({ schema: 'clipstream.video.v1', uri: file('good.mp4') }) },
        'CLIPSTREAM_BAD_EVENT',
      ],
      [ev('k-text', file('good.mp4'), { queries: [{ id: 'q', text: '   ' }] }), 'CLIPSTREAM_BAD_TEXT'],
      [ev('k-outside', pathToFileURL(join(outside, 'secret.mp4')).href), 'CLIPSTREAM_URI_REFUSED'],
      [ev('k-traversal', `${file('')}../${outside.split('/').pop()}/secret.mp4`), 'CLIPSTREAM_URI_REFUSED'],
      [ev('k-private', `${base}/good.mp4`), 'CLIPSTREAM_URI_REFUSED'],
      [ev('k-scheme', 'ftp://example.com/a.mp4'), 'CLIPSTREAM_BAD_URI'],
      [ev('k-missing', file('missing.mp4')), 'CLIPSTREAM_SOURCE_NOT_FOUND'],
      [ev('k-notmedia', file('notmedia.mp4')), 'CLIPSTREAM_PROBE_FAILED'],
      [ev('k-audio', file('audio.m4a')), 'CLIPSTREAM_NO_VIDEO_STREAM'],
      [ev('k-broken', file('broken.mp4')), 'CLIPSTREAM_DECODE_FAILED'],
      [ev('k-wide', file('wide.mp4')), 'CLIPSTREAM_SOURCE_TOO_LARGE'],
      [
        ev('k-huge-result', file('good.mp4'), {
          queries: Array.from({ length: 20 }, (_, i) => ({
            id: `q${i}`,
            text: `${i} ${'long '.repeat(400)}`,
          })),
        }),
        'CLIPSTREAM_RESULT_TOO_LARGE',
      ],
    ];
    await produce(config.inputTopic, [...cases.map(([m]) => m), ev('k-good', file('good.mp4'))]);

    const dlq = await readUntil(config.dlqTopic, (rs) => rs.length >= cases.length);
    const results = await readUntil(config.outputTopic, (rs) => rs.length >= 1);
    assert.equal(results[0]?.key, 'k-good', 'the worker went on past the bad events');
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 30_000, 'offsets committed');
    // Nothing more arrives: exactly one record per bad event.
    const again = await readUntil(config.dlqTopic, (rs) => rs.length >= cases.length);
    assert.equal(again.length, cases.length);

    cases.forEach(([sent, code], offset) => {
      const r = dlq.find((d) => json<DlqRecord>(d).source.offset === String(offset));
      assert.ok(r, `a DLQ record for offset ${offset} (${sent.key})`);
      const rec = json<DlqRecord>(r);
      assert.equal(rec.schema, 'clipstream.dlq.v1');
      assert.equal(rec.error.code, code, `${sent.key}: ${rec.error.message}`);
      assert.ok(rec.error.message.length > 0);
      assert.deepEqual(rec.source, { topic: config.inputTopic, partition: 0, offset: String(offset) });
      assert.equal(r.key, sent.key, 'keyed by the original key');
      const original = sent.value === null ? null : Buffer.from(sent.value);
      const kept = rec.value === null ? null : Buffer.from(rec.value, 'base64');
      if (original === null || kept === null) {
        assert.equal(kept, original, `${sent.key}: null value`);
      } else if (rec.valueTruncated) {
        // An original larger than a DLQ record may be (here 20 kB) keeps its prefix.
        assert.equal(sent.key, 'k-huge-result', 'only the oversized event is truncated');
        assert.equal(rec.valueBytes, original.length);
        assert.ok(
          kept.length > 0 && original.subarray(0, kept.length).equals(kept),
          `${sent.key}: original prefix`,
        );
      } else {
        assert.ok(kept.equals(original), `${sent.key}: original bytes`);
      }
    });
    const first = dlq.find((d) => d.key === 'k-json')!;
    assert.equal(first.headers.custom?.toString(), 'kept', 'headers carried over');
    assert.equal(
      first.headers.traceparent?.toString(),
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    );
  });

  it('transient faults are retried with backoff: a flaky source succeeds, a dead one ends as RETRIES_EXHAUSTED', async () => {
    const n = names('retry');
    used.push(n);
    const config = testConfig(n, {
      mediaRoot: media,
      topicPartitions: 1,
      allowPrivateNetworks: true,
      maxAttempts: 4,
    });
    const w = await startWorker(config, 'retry', { limits: { networkTimeoutMs: 1000 } });
    workers.push(w);
    await produce(config.inputTopic, [ev('k-down', `${base}/down.mp4`), ev('k-flaky', `${base}/flaky.mp4`)]);

    const dlq = await readUntil(config.dlqTopic, (rs) => rs.length >= 1);
    const rec = json<DlqRecord>(dlq[0]!);
    assert.equal(dlq[0]!.key, 'k-down');
    assert.equal(rec.error.code, 'CLIPSTREAM_RETRIES_EXHAUSTED');
    assert.match(rec.error.message, /after 4 attempts.*CLIPSTREAM_SOURCE_UNAVAILABLE/);
    const results = await readUntil(config.outputTopic, (rs) => rs.length >= 1);
    assert.equal(results[0]!.key, 'k-flaky');
    assert.ok(flakyHits >= 3, 'the flaky source was asked again after failing');
    await waitFor(() => committedToEnd(config.group, config.inputTopic), 30_000, 'offsets committed');
    assert.equal(w.stats.dlq, 1);
    assert.equal(w.stats.results, 1);
  });

  it('a worker without a media root refuses local files', async () => {
    const n = names('noroot');
    used.push(n);
    const config = testConfig(n, { topicPartitions: 1 });
    workers.push(await startWorker(config, 'noroot'));
    await produce(config.inputTopic, [
      ev('k-local', file('good.mp4')),
      ev('k-path', join(media, 'good.mp4')),
    ]);
    const dlq = await readUntil(config.dlqTopic, (rs) => rs.length >= 2);
    assert.deepEqual(
      dlq.map((d) => json<DlqRecord>(d).error.code),
      ['CLIPSTREAM_URI_REFUSED', 'CLIPSTREAM_URI_REFUSED'],
    );
  });
});
