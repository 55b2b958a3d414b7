/**
 * Alerts for videos (design.md 3.6): with CLIPSTREAM_ALERTS_TOPIC set, the worker sends one
 * clipstream.alert.v1 per moment of a video's result, keyed by videoId; none for a query that
 * does not match. Real broker, real worker, the bundled model on the demo video.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demoVideoSpec } from '../../../eval/shapes/demo.js';
import { renderVideo } from '../../../eval/shapes/render.js';
import type { Worker } from '../../../src/ingest/index.js';
import { AlertSchema } from '../../../src/live/index.js';
import type { Alert } from '../../../src/live/index.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { deleteTopics, uniqueTopic } from '../../helpers/kafka.js';
import { BUNDLED_PACK } from '../../helpers/cli.js';
import {
  closeSharedEmbedder,
  names,
  produce,
  readUntil,
  removeDir,
  startWorker,
  tempDir,
  testConfig,
  videoEvent,
} from '../worker/helpers.js';

const n = names('valerts');
const alertsTopic = uniqueTopic('valerts-alerts');
let media: string;
let worker: Worker | undefined;

before(async () => {
  media = await tempDir('cs-valerts-');
  await renderVideo(demoVideoSpec(), join(media, 'demo.mp4'));
});
after(async () => {
  await worker?.close();
  await closeSharedEmbedder();
  await deleteTopics([...Object.values(n).filter((x) => x !== n.group), alertsTopic]).catch(() => undefined);
  await removeDir(media);
});

describe('alerts for videos', { timeout: 300_000 }, () => {
  it('one alert per moment of the result, none for a query that never appears', async () => {
    const config = testConfig(n, { mediaRoot: media, alertsTopic, model: BUNDLED_PACK, alertCooldownSec: 0 });
    worker = await startWorker(config, 'valerts');
    const queries = [
      { id: 'red', text: 'a red circle' },
      { id: 'green', text: 'a green circle' },
    ];
    await produce(config.inputTopic, [videoEvent('demo', `file://${join(media, 'demo.mp4')}`, { queries })]);
    const [res] = await readUntil(config.outputTopic, (rs) => rs.length >= 1);
    const result = JSON.parse(res!.value!.toString()) as ResultDocument;
    const moments = result.queries[0]!.moments;
    assert.equal(moments.length, 2, 'the red circle is on screen twice');
    const read = await readUntil(alertsTopic, (rs) => rs.length >= moments.length);
    const alerts = read.map((r) => {
      assert.equal(r.key, 'demo');
      const a = JSON.parse(r.value!.toString()) as Alert;
      assert.equal(AlertSchema.safeParse(a).success, true);
      return a;
    });
    assert.deepEqual(
      alerts.map((a) => [a.queryId, a.startSec]).sort(),
      moments.map((m) => ['red', m.startSec]).sort(),
    );
    assert.equal(alerts.filter((a) => a.queryId === 'green').length, 0);
    assert.equal(new Set(alerts.map((a) => a.momentId)).size, alerts.length);
  });
});
