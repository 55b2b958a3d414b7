import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MATCH_OPTIONS } from '../../../src/match/index.js';
import { WindowTracker } from '../../../src/live/index.js';
import type { OpenedMoment, WindowDocument } from '../../../src/live/index.js';

// Two-dimensional "embeddings": [1, 0] shows the object, [0, 1] does not.
const ON = Float32Array.of(1, 0);
const OFF = Float32Array.of(0, 1);
const vectors = { sentence: Float32Array.of(1, 0), words: Float32Array.of(1, 0), wordCount: 1 };
const cal = { sentence: { scale: 10, bias: -5 }, word: { scale: 10, bias: -5 } };

function tracker(opened: OpenedMoment[], window = { windowSec: 4, contextSec: 2, alertCooldownSec: 5 }) {
  return new WindowTracker({
    streamId: 's1',
    uri: 'rtsp://cam/1',
    dim: 2,
    queries: [{ id: 'q1', text: 'the object', vectors }],
    captions: [],
    calibration: cal,
    match: { ...DEFAULT_MATCH_OPTIONS, smoothingSec: 0 },
    model: { name: 'm', sha256: 'x', embedDim: 2 },
    sampling: { strategy: 'fps', fps: 2 },
    window,
    onOpen: (m) => opened.push(m),
  });
}

/** Feeds frames at 2 fps over [0, untilSec); `on(t)` says whether the object shows. */
function feed(t: WindowTracker, untilSec: number, on: (s: number) => boolean, fromSec = 0) {
  const docs: WindowDocument[] = [];
  const openedAt: number[] = [];
  for (let s = fromSec; s < untilSec; s += 0.5) {
    const d = t.add(s, on(s) ? ON : OFF);
    if (d) docs.push(d);
    openedAt.push(s);
  }
  return docs;
}

describe('WindowTracker', () => {
  it('a moment across a window edge keeps its momentId, is open in the first window and closed in the next', () => {
    const opened: OpenedMoment[] = [];
    const t = tracker(opened);
    const docs = feed(t, 12.5, (s) => s >= 3 && s < 6);
    assert.deepEqual(
      docs.map((d) => d.window.index),
      [0, 1, 2],
    );
    const [w0, w1, w2] = docs.map((d) => d.queries[0]!.moments);
    assert.equal(w0!.length, 1);
    assert.equal(w0![0]!.open, true);
    assert.equal(w0![0]!.startSec, 3);
    assert.equal(w1!.length, 1);
    assert.equal(w1![0]!.momentId, w0![0]!.momentId);
    assert.equal(w1![0]!.open, false);
    assert.equal(w1![0]!.startSec, 3);
    assert.equal(w1![0]!.endSec, 6);
    assert.deepEqual(w2, []);
    assert.equal(docs[0]!.queries[0]!.matched, true);
    assert.equal(docs[2]!.queries[0]!.matched, false);
    assert.equal(opened.length, 1, 'one alert per moment');
    assert.equal(opened[0]!.momentId, w0![0]!.momentId);
  });

  it('opens a moment when its frame arrives, before the window that contains it closes', () => {
    const opened: OpenedMoment[] = [];
    const t = tracker(opened);
    let closedBeforeOpen = 0;
    for (let s = 0; s < 4; s += 0.5) {
      if (t.add(s, s >= 1 ? ON : OFF)) closedBeforeOpen += 1;
      if (s === 1.5) assert.equal(opened.length, 1, 'opened by the second frame that shows it');
    }
    assert.equal(closedBeforeOpen, 0);
    assert.equal(opened[0]!.startSec, 1);
  });

  it('no alert for a query that never appears; a reopening within the cooldown does not alert', () => {
    const none: OpenedMoment[] = [];
    feed(tracker(none), 12, () => false);
    assert.equal(none.length, 0);
    const opened: OpenedMoment[] = [];
    const t = tracker(opened);
    // on 1-3, off 3-5 (reopens 2 s later: within 5 s), on 5-7, off until 14, on 14-16
    const docs = feed(t, 20, (s) => (s >= 1 && s < 3) || (s >= 5 && s < 7) || (s >= 14 && s < 16));
    const ids = new Set(docs.flatMap((d) => d.queries[0]!.moments.map((m) => m.momentId)));
    assert.equal(ids.size, 3, 'three moments');
    assert.deepEqual(
      opened.map((o) => o.startSec),
      [1, 14],
    );
  });

  it('the cooldown runs from where the alerted moment ended, not from where it was when it opened', () => {
    const opened: OpenedMoment[] = [];
    // on 1-6 (one long moment), off 6-9, on 9-10: reopens 3 s after the end, within 5 s.
    feed(tracker(opened), 14, (s) => (s >= 1 && s < 6) || (s >= 9 && s < 10));
    assert.deepEqual(
      opened.map((o) => o.startSec),
      [1],
    );
  });

  it('keeps the buffer bounded and ends with one final document', () => {
    const t = tracker([]);
    const docs = feed(t, 400, (s) => Math.floor(s / 7) % 2 === 0);
    assert.ok(t.bufferedFrames <= (4 + 2) * 2 + 1, `buffer ${t.bufferedFrames}`);
    assert.equal(docs.length, 99);
    assert.ok(docs.every((d) => !d.final && d.live));
    const last = t.finish('stopped');
    assert.equal(last.final, true);
    assert.deepEqual(last.end, { reason: 'stopped' });
    assert.equal(last.window.index, 99);
    assert.equal(new Set([...docs, last].map((d) => d.resultId)).size, 100);
    assert.ok(last.window.startTime > docs[0]!.window.startTime);
  });
});
