import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toTable, toWebVtt } from '../../../src/cli/format.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';

const doc: ResultDocument = {
  schema: 'clipstream.result.v1',
  resultId: 'r',
  videoId: 'v',
  source: { uri: 'x', durationSec: 3725.5, width: 640, height: 360, fps: 25 },
  model: { name: 'm', sha256: '0123456789abcdef', embedDim: 4 },
  sampling: { strategy: 'fps', fps: 1, frames: 3 },
  queries: [
    {
      id: 'q1',
      text: 'a <b> & c',
      score: 0.9,
      matched: true,
      moments: [{ startSec: 1, endSec: 2, score: 0.9, peakSec: 1.5 }],
    },
  ],
  captions: [
    { startSec: 0, endSec: 1.25, text: 'a red circle', score: 0.8 },
    { startSec: 1.25, endSec: 3725.5, text: 'x --> <y> & z\nsecond line', score: 0.7 },
  ],
  timings: { decodeMs: 1, embedMs: 2, matchMs: 3, totalMs: 4 },
};

describe('output formats', () => {
  it('WebVTT: header, hh:mm:ss.ttt timings, escaped one-line cue text', () => {
    const vtt = toWebVtt(doc);
    const lines = vtt.split('\n');
    assert.equal(lines[0], 'WEBVTT');
    assert.ok(vtt.includes('00:00:00.000 --> 00:00:01.250\na red circle\n'));
    assert.ok(vtt.includes('00:00:01.250 --> 01:02:05.500\nx --&gt; &lt;y&gt; &amp; z second line\n'));
    // every timing line is well-formed and no cue text contains the arrow
    const timing = /^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$/;
    const arrowLines = lines.filter((l) => l.includes('-->'));
    assert.equal(arrowLines.length, 2);
    for (const l of arrowLines) assert.match(l, timing);
  });

  it('table names every query and caption', () => {
    const t = toTable(doc);
    assert.ok(t.includes('a <b> & c'));
    assert.ok(t.includes('a red circle'));
    assert.ok(t.includes('1.0s-2.0s'));
  });
});
