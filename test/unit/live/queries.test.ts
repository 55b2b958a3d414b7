import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StandingQueries } from '../../../src/ingest/index.js';
import { TEXT_LIMITS } from '../../../src/limits.js';
import { DEFAULT_MATCH_OPTIONS } from '../../../src/match/index.js';
import { WindowTracker } from '../../../src/live/index.js';
import type { OpenedMoment, WindowDocument } from '../../../src/live/index.js';
import { remapQueries, sameQueries } from '../../../src/live/queries.js';
import { withStandingOf } from '../../../src/live/streams.js';

const record = (text: string) => Buffer.from(JSON.stringify({ schema: 'clipstream.query.v1', text }));

describe("a stream's queries with standing queries", () => {
  it('are its own, then the standing ones by id, recomputed only when the table changes', () => {
    const table = new StandingQueries();
    const warned: unknown[] = [];
    const get = withStandingOf([{ id: 'own', text: 'a red circle' }], table, {
      warn: (...a) => warned.push(a),
    });
    assert.deepEqual(get(), [{ id: 'own', text: 'a red circle' }]);
    table.apply('s2', record('a blue square'));
    table.apply('s1', record('a green triangle'));
    const first = get();
    assert.deepEqual(first, [
      { id: 'own', text: 'a red circle' },
      { id: 's1', text: 'a green triangle' },
      { id: 's2', text: 'a blue square' },
    ]);
    assert.equal(get(), first, 'the same array while the table is unchanged');
    table.apply('s1', null);
    assert.deepEqual(
      get().map((q) => q.id),
      ['own', 's2'],
    );
    // No dedup by id, as for videos: a standing query with the id of the stream's own stays.
    table.apply('own', record('a yellow star'));
    assert.deepEqual(
      get().map((q) => `${q.id}:${q.text}`),
      ['own:a red circle', 'own:a yellow star', 's2:a blue square'],
    );
    assert.equal(warned.length, 0);
  });

  it('stop at the query limit of a video, with one warning per change', () => {
    const table = new StandingQueries();
    const own = Array.from({ length: TEXT_LIMITS.maxQueries - 1 }, (_, i) => ({ id: `o${i}`, text: 'x' }));
    const warned: unknown[] = [];
    const get = withStandingOf(own, table, { warn: (...a) => warned.push(a) });
    table.apply('s1', record('one'));
    table.apply('s2', record('two'));
    const qs = get();
    get();
    assert.equal(qs.length, TEXT_LIMITS.maxQueries);
    assert.deepEqual(qs.at(-1), { id: 's1', text: 'one' });
    assert.equal(warned.length, 1);
  });
});

describe('sameQueries / remapQueries', () => {
  it('compare ids and texts in order', () => {
    const a = [
      { id: 'q1', text: 'x' },
      { id: 'q2', text: 'y' },
    ];
    assert.ok(
      sameQueries(
        a,
        a.map((q) => ({ ...q })),
      ),
    );
    assert.ok(!sameQueries(a, [a[1]!, a[0]!]));
    assert.ok(!sameQueries(a, [a[0]!, { id: 'q2', text: 'z' }]));
    assert.ok(!sameQueries(a, [a[0]!]));
  });

  it('map each query to its old index; a changed text is new; twins stay two', () => {
    const prev = [
      { id: 'q1', text: 'x' },
      { id: 's', text: 'y' },
      { id: 's', text: 'y' },
      { id: 'q3', text: 'z' },
    ];
    const next = [
      { id: 'q1', text: 'x' },
      { id: 's', text: 'y' },
      { id: 'q3', text: 'changed' },
      { id: 's', text: 'y' },
      { id: 's', text: 'y' },
      { id: 'new', text: 'w' },
    ];
    assert.deepEqual(remapQueries(prev, next), [0, 1, -1, 2, -1, -1]);
  });
});

// Three-dimensional "embeddings": A shows object a, B shows object b, NONE shows neither.
const A = Float32Array.of(1, 0, 0);
const B = Float32Array.of(0, 1, 0);
const NONE = Float32Array.of(0, 0, 1);
const vec = (v: Float32Array) => ({ sentence: v, words: v, wordCount: 1 });
const qa = { id: 'qa', text: 'object a', vectors: vec(A) };
const qb = { id: 'qb', text: 'object b', vectors: vec(B) };
const cal = { sentence: { scale: 10, bias: -5 }, word: { scale: 10, bias: -5 } };

function tracker(opened: OpenedMoment[]) {
  return new WindowTracker({
    streamId: 's1',
    uri: 'rtsp://cam/1',
    dim: 3,
    queries: [qa],
    captions: [],
    calibration: cal,
    match: { ...DEFAULT_MATCH_OPTIONS, smoothingSec: 0 },
    model: { name: 'm', sha256: 'x', embedDim: 3 },
    sampling: { strategy: 'fps', fps: 2 },
    window: { windowSec: 4, contextSec: 4, alertCooldownSec: 5 },
    onOpen: (m) => opened.push(m),
  });
}

describe('WindowTracker.setQueries', () => {
  it('adds a query from the next window on: it alerts for what it sees there, not for what was before', () => {
    const opened: OpenedMoment[] = [];
    const t = tracker(opened);
    // b on 1-2 (before the query exists), a on 2-6 (across the edge at 4), b on 6-8, a on 9-10.
    const show = (s: number) =>
      (s >= 1 && s < 2) || (s >= 6 && s < 8) ? B : s >= 2 && s < 6 ? A : s >= 9 && s < 10 ? A : NONE;
    const docs: WindowDocument[] = [];
    for (let s = 0; s < 12.5; s += 0.5) {
      if (s === 3) t.setQueries([qa, qb]);
      const d = t.add(s, show(s));
      if (d) docs.push(d);
    }
    const [w0, w1, w2] = docs;
    assert.deepEqual(
      w0!.queries.map((q) => q.id),
      ['qa'],
      'the window it was added in does not list it',
    );
    assert.deepEqual(
      w1!.queries.map((q) => q.id),
      ['qa', 'qb'],
    );
    assert.notEqual(w1!.resultId, w0!.resultId);
    // The query that stays keeps its moment and momentId across the change.
    assert.equal(w1!.queries[0]!.moments[0]!.momentId, w0!.queries[0]!.moments[0]!.momentId);
    assert.equal(w1!.queries[0]!.moments[0]!.endSec, 6);
    assert.deepEqual(
      w1!.queries[1]!.moments.map((m) => m.startSec),
      [6],
    );
    // One alert for a at 2, one for b at 6; none for b's earlier stretch; a again at 9 is
    // within the cooldown kept across the change.
    assert.deepEqual(
      opened.map((o) => `${o.queryId}@${o.startSec}`),
      ['qa@2', 'qb@6'],
    );
    assert.equal(w2!.queries[0]!.moments.length, 1);
  });

  it('removes a query from the next window on; a change before the first frame applies at once', () => {
    const opened: OpenedMoment[] = [];
    const t = tracker(opened);
    t.setQueries([qb, qa]);
    assert.deepEqual(
      t.currentQueries.map((q) => q.id),
      ['qb', 'qa'],
    );
    const docs: WindowDocument[] = [];
    for (let s = 0; s < 12.5; s += 0.5) {
      if (s === 5) t.setQueries([qa]);
      const d = t.add(s, s >= 3 && s < 4.5 ? B : s >= 7 ? A : NONE);
      if (d) docs.push(d);
    }
    assert.deepEqual(
      docs.map((d) => d.queries.map((q) => q.id).join(',')),
      ['qb,qa', 'qb,qa', 'qa'],
    );
    assert.equal(docs[1]!.queries[0]!.moments.length, 1, 'the moment of b open at the edge, listed closed');
    assert.equal(docs[1]!.queries[0]!.moments[0]!.open, false);
    const aIds = new Set(
      docs.flatMap((d) =>
        d.queries.filter((q) => q.id === 'qa').flatMap((q) => q.moments.map((m) => m.momentId)),
      ),
    );
    assert.equal(aIds.size, 1, 'one moment of a across the change');
    assert.deepEqual(
      opened.map((o) => o.queryId),
      ['qb', 'qa'],
    );
  });
});
