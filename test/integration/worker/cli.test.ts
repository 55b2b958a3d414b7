// `clipstream publish` and `clipstream results` against a running worker: publish builds and
// validates the event and prints its id; results prints result documents as JSON lines and
// stops at the end (or filters by video); errors are one coded stderr line.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Worker } from '../../../src/ingest/index.js';
import { defaultVideoId } from '../../../src/cli/publish.js';
import { brokers, deleteTopics, uniqueTopic } from '../../helpers/kafka.js';
import {
  closeSharedEmbedder,
  json,
  makeClip,
  names,
  readUntil,
  removeDir,
  runCli,
  startWorker,
  tempDir,
  testConfig,
} from './helpers.js';

const n = names('cli');
let media: string;
let worker: Worker | undefined;

before(async () => {
  media = await tempDir('cs-cli-');
  await makeClip(join(media, 'a.mp4'), { seconds: 2 });
  await makeClip(join(media, 'b.mp4'), { seconds: 2, color: 'red' });
});

after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  await deleteTopics([n.inputTopic, n.outputTopic, n.dlqTopic, n.queriesTopic]);
  await removeDir(media);
});

describe('publish and results commands', { timeout: 600_000 }, () => {
  it("publish prints the id; results prints JSON lines to the end, or one video's", async () => {
    const config = testConfig(n, { mediaRoot: media, topicPartitions: 2 });
    worker = await startWorker(config, 'cli');
    const env = { CLIPSTREAM_BROKERS: brokers().join(',') };

    const a = await runCli(
      [
        'publish',
        join(media, 'a.mp4'),
        '--query',
        'a red circle',
        '--query',
        'a blue square',
        '--topic',
        config.inputTopic,
      ],
      env,
    );
    assert.equal(a.code, 0, a.stderr);
    const uriA = pathToFileURL(join(media, 'a.mp4')).href;
    assert.equal(a.stdout, `${defaultVideoId(uriA)}\n`, 'the default id is a hash of the URI');
    const b = await runCli(
      [
        'publish',
        pathToFileURL(join(media, 'b.mp4')).href,
        '--id',
        'video-b',
        '--fps',
        '2',
        '--topic',
        config.inputTopic,
      ],
      env,
    );
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout, 'video-b\n');

    const events = await readUntil(config.inputTopic, (rs) => rs.length >= 2);
    const eventA = json(events.find((e) => e.key === defaultVideoId(uriA))!);
    assert.deepEqual(eventA, {
      schema: 'clipstream.video.v1',
      videoId: defaultVideoId(uriA),
      uri: uriA,
      queries: [
        { id: 'q1', text: 'a red circle' },
        { id: 'q2', text: 'a blue square' },
      ],
    });
    await readUntil(config.outputTopic, (rs) => rs.length >= 2);

    const all = await runCli(['results', '--topic', config.outputTopic], env);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    const docs = lines.map(
      (l) =>
        JSON.parse(l) as { schema: string; videoId: string; sampling: { fps: number }; queries: unknown[] },
    );
    assert.ok(docs.every((d) => d.schema === 'clipstream.result.v1'));
    assert.deepEqual(docs.map((d) => d.videoId).sort(), [defaultVideoId(uriA), 'video-b'].sort());

    const one = await runCli(['results', '--topic', config.outputTopic, '--video', 'video-b'], env);
    assert.equal(one.code, 0, one.stderr);
    const only = one.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { videoId: string; sampling: { fps: number } });
    assert.deepEqual(
      only.map((d) => [d.videoId, d.sampling.fps]),
      [['video-b', 2]],
    );
  });

  it('bad input and missing topics are one coded stderr line and a non-zero exit', async () => {
    const env = { CLIPSTREAM_BROKERS: brokers().join(',') };
    const cases: [string[], RegExp][] = [
      [['publish'], /^clipstream: CLIPSTREAM_BAD_ARGUMENT: /],
      [['publish', 'relative/path.mp4'], /^clipstream: CLIPSTREAM_BAD_ARGUMENT: .*absolute/],
      [['publish', 'file:///a.mp4', '--query', '  '], /^clipstream: CLIPSTREAM_BAD_TEXT: /],
      [
        ['publish', 'file:///a.mp4', '--id', 'x'.repeat(300)],
        /^clipstream: CLIPSTREAM_BAD_ARGUMENT: .*videoId/,
      ],
      [
        ['publish', 'file:///a.mp4', '--topic', uniqueTopic('absent')],
        /^clipstream: CLIPSTREAM_TOPIC_MISSING: /,
      ],
      [['results', '--topic', uniqueTopic('absent')], /^clipstream: CLIPSTREAM_TOPIC_MISSING: /],
      [['results', '--nope'], /^clipstream: CLIPSTREAM_BAD_ARGUMENT: /],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args, env);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(lines[0]!, re, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
