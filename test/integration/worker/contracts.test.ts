// What a real worker publishes (result document, embeddings chunks, DLQ records) validates
// against the committed JSON Schemas under schemas/, with a JSON Schema 2020-12 validator that
// knows nothing of zod: what consumers in other languages would run.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { CONTRACTS, schemaFileName } from '../../../src/contracts/index.js';
import type { Worker } from '../../../src/ingest/index.js';
import { deleteTopics } from '../../helpers/kafka.js';
import {
  ROOT,
  closeSharedEmbedder,
  json,
  makeClip,
  names,
  produce,
  readUntil,
  removeDir,
  startWorker,
  tempDir,
  testConfig,
  videoEvent,
} from './helpers.js';

const n = names('contracts');
let media: string;
let worker: Worker | undefined;
const validators = new Map<string, ValidateFunction>();

function check(name: string, value: unknown): void {
  const v = validators.get(name);
  assert.ok(v, `no schema for ${name}`);
  assert.ok(v(value), `${name}: ${JSON.stringify(v.errors)}`);
}

before(async () => {
  media = await tempDir('cs-contracts-');
  await makeClip(join(media, 'a.mp4'), { seconds: 2 });
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('base64', /^(?:[0-9a-zA-Z+/]{4})*(?:[0-9a-zA-Z+/]{2}==|[0-9a-zA-Z+/]{3}=)?$/);
  for (const c of CONTRACTS) {
    const text = await readFile(join(ROOT, 'schemas', schemaFileName(c)), 'utf8');
    validators.set(c.name, ajv.compile(JSON.parse(text) as object));
  }
});

after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  await deleteTopics(Object.values(n).filter((t) => !t.includes('group')));
  await removeDir(media);
});

describe('published messages against schemas/*.json', { timeout: 300_000 }, () => {
  it('result documents, embeddings chunks and DLQ records of a real worker are valid', async () => {
    const config = testConfig(n, { mediaRoot: media, topicPartitions: 1, publishEmbeddings: true });
    worker = await startWorker(config, 'contracts');
    const uri = pathToFileURL(join(media, 'a.mp4')).href;
    const good = videoEvent('v-good', uri, {
      queries: [{ id: 'q1', text: 'a test pattern' }],
      captions: ['a test pattern', 'a red screen'],
    });
    check('clipstream.video.v1', JSON.parse(String(good.value)));
    await produce(config.inputTopic, [
      good,
      { key: 'v-json', value: '{"schema": "clipstream.video.v1", "videoId": ' },
      { key: 'v-shape', value: JSON.stringify({ schema: 'clipstream.video.v1', videoId: 'v-shape' }) },
      { key: 'v-empty', value: null },
    ]);

    const [results, chunks, dlq] = await Promise.all([
      readUntil(config.outputTopic, (rs) => rs.length >= 1),
      readUntil(config.embeddingsTopic, (rs) =>
        rs.some((r) => json<{ chunk: { count: number } }>(r).chunk.count > 0),
      ),
      readUntil(config.dlqTopic, (rs) => rs.length >= 3),
    ]);
    for (const r of results) check('clipstream.result.v1', json(r));
    assert.ok(chunks.length >= 1);
    for (const r of chunks) check('clipstream.embeddings.v1', json(r));
    const codes = dlq.map((r) => {
      const rec = json<{ error: { code: string } }>(r);
      check('clipstream.dlq.v1', rec);
      return rec.error.code;
    });
    assert.deepEqual(codes.sort(), [
      'CLIPSTREAM_BAD_EVENT',
      'CLIPSTREAM_BAD_EVENT_JSON',
      'CLIPSTREAM_BAD_EVENT_JSON',
    ]);
  });

  it('the schemas refuse what the worker would refuse (the validator is not a rubber stamp)', () => {
    const videos = validators.get('clipstream.video.v1')!;
    assert.equal(videos({ schema: 'clipstream.video.v1', videoId: 'v' }), false, 'uri is required');
    assert.equal(
      videos({
        schema: 'clipstream.video.v1',
        videoId: 'v',
        uri: 'x',
        sampling: { strategy: 'fps', fps: 500 },
      }),
      false,
    );
    const query = validators.get('clipstream.query.v1')!;
    assert.equal(query({ schema: 'clipstream.query.v1', text: 'a red circle' }), true);
    assert.equal(query({ schema: 'clipstream.query.v2', text: 'a red circle' }), false);
    const results = validators.get('clipstream.result.v1')!;
    assert.equal(results({ schema: 'clipstream.result.v1', resultId: 'r' }), false);
  });
});
