import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AlertSchema,
  StreamSpecSchema,
  Timeline,
  backoffDelay,
  isLiveUri,
  parseStreamSpec,
} from '../../../src/live/index.js';

describe('live timeline', () => {
  it('keeps pts spacing within a connection and never goes back across reconnects or pts resets', () => {
    const tl = new Timeline();
    const t0 = 1_000_000;
    assert.equal(tl.place(5.0, t0), 0);
    assert.equal(tl.place(5.5, t0 + 400), 0.5);
    assert.equal(tl.place(6.0, t0 + 900), 1);
    tl.reconnect(); // the new connection's pts start at 0 again; it arrived 10 s after second 0
    assert.equal(tl.place(0, t0 + 10_000), 10);
    assert.equal(tl.place(0.5, t0 + 10_500), 10.5);
    // a pts reset inside a connection re-anchors on the wall clock, still forward
    const t = tl.place(0.1, t0 + 10_600);
    assert.ok(t > 10.5 && t <= 10.6 + 1e-9, String(t));
    // a reconnect whose first frame arrives "early" by the wall clock still moves forward
    tl.reconnect();
    assert.ok(tl.place(3, t0 + 1000) > t);
  });

  it('backs off exponentially with jitter, capped', () => {
    const o = { backoffMs: 500, backoffMaxMs: 4000 };
    assert.equal(
      backoffDelay(1, o, () => 0.999999),
      500,
    );
    assert.equal(
      backoffDelay(1, o, () => 0),
      250,
    );
    assert.equal(
      backoffDelay(3, o, () => 0.999999),
      2000,
    );
    assert.equal(
      backoffDelay(10, o, () => 0.999999),
      4000,
    );
  });

  it('tells live URIs from videos', () => {
    for (const u of [
      'rtsp://cam/1',
      'RTSPS://cam:322/x',
      'https://cdn.example/live/index.m3u8?token=1',
      'http://h/a.M3U8',
    ])
      assert.equal(isLiveUri(u), true, u);
    for (const u of [
      'https://cdn.example/v.mp4',
      'file:///m/a.m3u8x',
      '/videos/a.mp4',
      'http://h/a.m3u8.mp4',
    ])
      assert.equal(isLiveUri(u), false, u);
  });
});

describe('live messages', () => {
  it('parses stream specs and refuses bad ones with a code', () => {
    const s = parseStreamSpec(
      JSON.stringify({ schema: 'clipstream.stream.v1', uri: 'rtsp://cam/1', windowSec: 5 }),
    );
    assert.equal(s.windowSec, 5);
    assert.throws(() => parseStreamSpec('{'), { code: 'CLIPSTREAM_BAD_STREAM' });
    assert.throws(() => parseStreamSpec('{"schema":"clipstream.stream.v1"}'), {
      code: 'CLIPSTREAM_BAD_STREAM',
    });
    assert.equal(
      StreamSpecSchema.safeParse({ schema: 'clipstream.stream.v1', uri: 'x', windowSec: 0 }).success,
      false,
    );
  });

  it('an alert names exactly one of streamId and videoId', () => {
    const a = {
      schema: 'clipstream.alert.v1',
      queryId: 'q',
      text: 't',
      momentId: 'm',
      startSec: 1,
      startTime: 'x',
      score: 0.9,
    };
    assert.equal(AlertSchema.safeParse({ ...a, streamId: 's' }).success, true);
    assert.equal(AlertSchema.safeParse({ ...a, videoId: 'v' }).success, true);
    assert.equal(AlertSchema.safeParse(a).success, false);
    assert.equal(AlertSchema.safeParse({ ...a, streamId: 's', videoId: 'v' }).success, false);
  });
});

describe('a live URI in a video event', () => {
  it('is refused with CLIPSTREAM_LIVE_SOURCE (for the DLQ); a video URI is not', async () => {
    const { validateEvent } = await import('../../../src/ingest/event.js');
    for (const uri of ['rtsp://cam.example/1', 'https://cdn.example/live.m3u8'])
      assert.throws(() => validateEvent({ schema: 'clipstream.video.v1', videoId: 'v', uri }), {
        code: 'CLIPSTREAM_LIVE_SOURCE',
      });
    assert.equal(
      validateEvent({ schema: 'clipstream.video.v1', videoId: 'v', uri: 'https://cdn.example/a.mp4' }).uri,
      'https://cdn.example/a.mp4',
    );
  });
});

describe('alerts for videos', () => {
  it('one per moment, none within the cooldown of the same query, contract-valid', async () => {
    const { videoAlerts } = await import('../../../src/live/alerts.js');
    const result = {
      videoId: 'v1',
      resultId: 'r1',
      queries: [
        {
          id: 'q1',
          text: 'a red circle',
          moments: [
            { startSec: 20, endSec: 24, score: 0.9 },
            { startSec: 0, endSec: 4, score: 0.8 },
            { startSec: 6, endSec: 8, score: 0.7 },
          ],
        },
        { id: 'q2', text: 'a green circle', moments: [] },
      ],
    };
    const alerts = videoAlerts(result, 5);
    assert.deepEqual(
      alerts.map((a) => [a.queryId, a.startSec]),
      [
        ['q1', 0],
        ['q1', 20],
      ],
    );
    for (const a of alerts) assert.equal(AlertSchema.safeParse(a).success, true);
    assert.equal(new Set(alerts.map((a) => a.momentId)).size, 2);
    assert.equal(videoAlerts(result, 0).length, 3);
  });
});
