import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MATCH_OPTIONS, MatchOptionsSchema, matchVideo } from '../../../src/match/index.js';
import { textEvidence, sigmoid } from '../../../src/match/scores.js';
import { CAL, text, track } from './fixtures.js';

const opts = DEFAULT_MATCH_OPTIONS;

describe('frame-word matching', () => {
  it('a two-object query matches only frames that show both objects', () => {
    // 0-5 s: red circle alone; 5-10 s: red circle and blue square.
    const tr = track(10, 0.5, (t) => (t < 5 ? ['redCircle'] : ['redCircle', 'blueSquare']));
    const q = text('redCircle', 'blueSquare');
    const ev = textEvidence(tr, q, CAL, opts.wordWeight, opts.wordSoftness);
    const firstHalf = Array.from(ev.combined.subarray(0, 10));
    const secondHalf = Array.from(ev.combined.subarray(10));
    assert.ok(
      firstHalf.every((z) => sigmoid(z) < 0.5),
      `one-object frames must not match: ${firstHalf}`,
    );
    assert.ok(
      secondHalf.every((z) => sigmoid(z) > 0.5),
      `two-object frames must match: ${secondHalf}`,
    );
    // The sentence alone (bag of words) would have matched the one-object frames: the words are what reject them.
    assert.ok(sigmoid(ev.sentence[0] as number) > 0.5);
    assert.ok(sigmoid(ev.words[0] as number) < 0.1);

    const out = matchVideo(tr, [{ id: 'q1', text: 'both', vectors: q }], [], CAL, opts);
    const r = out.queries[0]!;
    assert.equal(r.matched, true);
    assert.equal(r.moments.length, 1);
    assert.ok(Math.abs(r.moments[0]!.startSec - 5) <= 0.5, `start ${r.moments[0]!.startSec}`);
    assert.equal(r.moments[0]!.endSec, 10);
  });

  it('a query with swapped colour-shape binding does not match', () => {
    const tr = track(8, 0.5, () => ['redCircle', 'blueSquare']);
    const swapped = text('blueCircle', 'redSquare');
    const r = matchVideo(tr, [{ id: 's', text: 'swapped', vectors: swapped }], [], CAL, opts).queries[0]!;
    assert.equal(r.matched, false);
    assert.deepEqual(r.moments, []);
    assert.ok(r.score < 0.5);
  });

  it('word-only evidence ignores the sentence when wordWeight is 1, and the reverse', () => {
    const tr = track(4, 0.5, () => ['redCircle']);
    const q = text('redCircle', 'blueSquare');
    const wordsOnly = matchVideo(tr, [{ id: 'q', text: 'q', vectors: q }], [], CAL, {
      ...opts,
      wordWeight: 1,
    }).queries[0]!;
    const sentenceOnly = matchVideo(tr, [{ id: 'q', text: 'q', vectors: q }], [], CAL, {
      ...opts,
      wordWeight: 0,
    }).queries[0]!;
    assert.equal(wordsOnly.matched, false);
    assert.equal(sentenceOnly.matched, true);
  });

  it('moments land on the source timeline, sorted best first, with gaps merged and blips dropped', () => {
    // Object present 2-4 s, 4.5-6 s (gap 0.5 s < mergeGapSec), 12-17 s; a 0.25 s blip at 9 s.
    const present = (t: number) =>
      (t >= 2 && t < 4) || (t >= 4.5 && t < 6) || (t >= 12 && t < 17) || (t >= 9 && t < 9.25);
    const tr = track(20, 0.25, (t) => (present(t) ? ['greenTriangle'] : ['empty']));
    const q = text('greenTriangle');
    const r = matchVideo(tr, [{ id: 'g', text: 'g', vectors: q }], [], CAL, { ...opts, smoothingSec: 0 })
      .queries[0]!;
    assert.equal(r.matched, true);
    assert.equal(r.moments.length, 2, JSON.stringify(r.moments));
    const spans = r.moments.map((m) => [m.startSec, m.endSec]).sort((a, b) => a[0]! - b[0]!);
    assert.deepEqual(spans, [
      [2, 6],
      [12, 17],
    ]);
    for (const m of r.moments) assert.ok(m.peakSec >= m.startSec && m.peakSec < m.endSec);
    for (let i = 1; i < r.moments.length; i++) assert.ok(r.moments[i - 1]!.score >= r.moments[i]!.score);
  });

  it('irregular timestamps (variable frame rate, scene sampling) are honoured', () => {
    const times = [0, 0.3, 1.9, 2.0, 5.5, 7.25, 7.3];
    const shows = [false, false, true, true, true, false, false];
    const D = 8;
    const embeds = new Float32Array(times.length * D);
    shows.forEach((s, i) => (embeds[i * D + (s ? 4 : 5)] = 1));
    const tr = { dim: D, count: times.length, embeds, times: Float64Array.from(times), endSec: 8 };
    const r = matchVideo(tr, [{ id: 'g', text: 'g', vectors: text('greenTriangle') }], [], CAL, {
      ...opts,
      smoothingSec: 0,
    }).queries[0]!;
    assert.deepEqual(
      r.moments.map((m) => [m.startSec, m.endSec]),
      [[1.9, 7.25]],
    );
  });

  it('the video-level score ranks a video that contains the query above one that does not', () => {
    const q = text('blueSquare');
    const withIt = track(10, 0.5, (t) => (t > 3 && t < 6 ? ['blueSquare'] : ['empty']), 0.2);
    const without = track(10, 0.5, () => ['redCircle'], 0.2);
    const partial = track(10, 0.5, (t) => (t > 3 && t < 6 ? ['blueSquare', 'redCircle'] : ['empty']), 0.2);
    const score = (tr: ReturnType<typeof track>) =>
      matchVideo(tr, [{ id: 'q', text: 'q', vectors: q }], [], CAL, opts).queries[0]!.score;
    assert.ok(score(withIt) > score(partial), `${score(withIt)} > ${score(partial)}`);
    assert.ok(score(partial) > score(without), `${score(partial)} > ${score(without)}`);
  });

  it('queries keep their order, ids and exact text', () => {
    const tr = track(2, 0.5, () => ['empty']);
    const qs = ['  spaced  text ', 'ünïcødé ✓', 'a'].map((t, i) => ({
      id: `q${i}`,
      text: t,
      vectors: text('redCircle'),
    }));
    const out = matchVideo(tr, qs, [], CAL, opts);
    assert.deepEqual(
      out.queries.map((q) => [q.id, q.text]),
      qs.map((q) => [q.id, q.text]),
    );
  });

  it('thresholds are configuration and validated', () => {
    assert.throws(() => MatchOptionsSchema.parse({ momentThreshold: 2 }));
    const tr = track(4, 0.5, () => ['redCircle', 'blueSquare']);
    const q = text('redCircle', 'blueSquare');
    const strict = matchVideo(tr, [{ id: 'q', text: 'q', vectors: q }], [], CAL, {
      ...opts,
      matchThreshold: 0.9999,
      momentThreshold: 0.9999,
    });
    assert.equal(strict.queries[0]!.matched, false);
  });
});
