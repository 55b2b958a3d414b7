import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MATCH_OPTIONS, matchVideo } from '../../../src/match/index.js';
import { captionSpans, viterbiCaptions } from '../../../src/match/captions.js';
import { CAL, text, track } from './fixtures.js';

describe('captions', () => {
  it('viterbi keeps a caption through single-frame flicker and switches at a sustained change', () => {
    // 2 captions, 12 frames: caption 0 best except a one-frame flicker at t=3, caption 1 from t=6.
    const K = 2;
    const best = [0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1];
    const scores = new Float32Array(best.length * K);
    best.forEach((b, t) => {
      scores[t * K + b] = 0;
      scores[t * K + (1 - b)] = -1;
    });
    const path = Array.from(viterbiCaptions(scores, best.length, K, 1.5));
    assert.deepEqual(path, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    const noPenalty = Array.from(viterbiCaptions(scores, best.length, K, 0));
    assert.deepEqual(noPenalty, best);
  });

  it('captions follow the video, tile the timeline in order and do not overlap', () => {
    const scenes = (t: number) =>
      t < 4
        ? ['redCircle' as const]
        : t < 9
          ? ['redCircle' as const, 'blueSquare' as const]
          : ['empty' as const];
    const tr = track(12, 0.5, scenes, 0.15);
    const bank = [
      { text: 'red circle', vectors: text('redCircle') },
      { text: 'red circle and blue square', vectors: text('redCircle', 'blueSquare') },
      { text: 'nothing', vectors: text('empty') },
      { text: 'green triangle', vectors: text('greenTriangle') },
    ];
    const { captions } = matchVideo(tr, [], bank, CAL, DEFAULT_MATCH_OPTIONS);
    assert.deepEqual(
      captions.map((c) => c.text),
      ['red circle', 'red circle and blue square', 'nothing'],
    );
    assert.equal(captions[0]!.startSec, 0);
    assert.equal(captions.at(-1)!.endSec, 12);
    for (let i = 1; i < captions.length; i++) assert.equal(captions[i]!.startSec, captions[i - 1]!.endSec);
    assert.ok(Math.abs(captions[1]!.startSec - 4) <= 0.5);
    assert.ok(Math.abs(captions[2]!.startSec - 9) <= 0.5);
  });

  it('a change of caption sits halfway between the last frame of one and the first of the next', () => {
    const path = Int32Array.from([0, 0, 1, 1, 1, 0]);
    const probs = new Float32Array(path.length * 2).fill(0.5);
    const times = Float64Array.from([0, 0.5, 1.2, 1.5, 2, 2.5]);
    const ends = Float64Array.from([0.5, 1.2, 1.5, 2, 2.5, 3]);
    const spans = captionSpans(path, ['a', 'b'], probs, 2, times, ends);
    assert.deepEqual(
      spans.map((s) => [s.text, s.startSec, s.endSec]),
      [
        ['a', 0, 0.85],
        ['b', 0.85, 2.25],
        ['a', 2.25, 3],
      ],
    );
  });

  it('no captions without a caption bank', () => {
    const tr = track(3, 1, () => ['empty']);
    assert.deepEqual(matchVideo(tr, [], [], CAL, DEFAULT_MATCH_OPTIONS).captions, []);
  });
});
