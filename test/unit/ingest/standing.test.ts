import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_LIMITS } from '../../../src/ingest/event.js';
import { QUERY_SCHEMA, StandingQueries, withStanding } from '../../../src/ingest/standing.js';

const rec = (text: string) => Buffer.from(JSON.stringify({ schema: QUERY_SCHEMA, text }));

describe('standing-query table', () => {
  it('keeps the latest record per id and lists them ordered by id', () => {
    const t = new StandingQueries();
    assert.equal(t.apply(Buffer.from('zeta'), rec('a blue square')).outcome, 'set');
    assert.equal(t.apply('alpha', rec('a red circle')).outcome, 'set');
    assert.equal(t.apply(Buffer.from('zeta'), rec('a green triangle')).outcome, 'set');
    assert.deepEqual(t.list(), [
      { id: 'alpha', text: 'a red circle' },
      { id: 'zeta', text: 'a green triangle' },
    ]);
    assert.equal(t.size, 2);
  });

  it('a tombstone (null value) deletes; deleting an unknown id is harmless', () => {
    const t = new StandingQueries();
    t.apply('q1', rec('one'));
    t.apply('q2', rec('two'));
    assert.equal(t.apply('q1', null).outcome, 'deleted');
    assert.deepEqual(t.list(), [{ id: 'q2', text: 'two' }]);
    assert.equal(t.apply('never-seen', null).outcome, 'deleted');
    t.apply('q1', rec('one again'));
    assert.deepEqual(
      t.list().map((q) => q.text),
      ['one again', 'two'],
    );
  });

  it('skips invalid records without touching the table', () => {
    const t = new StandingQueries();
    t.apply('q1', rec('kept'));
    const invalid: [Buffer | string | null, Buffer | null][] = [
      [null, rec('no key')],
      ['', rec('empty key')],
      ['x'.repeat(EVENT_LIMITS.maxIdLength + 1), rec('long key')],
      ['q1', Buffer.from('not json')],
      ['q1', Buffer.from(JSON.stringify({ schema: 'clipstream.query.v0', text: 'old' }))],
      ['q1', Buffer.from(JSON.stringify({ schema: QUERY_SCHEMA }))],
      ['q1', rec('   ')],
      ['q1', rec('x'.repeat(EVENT_LIMITS.maxTextLength + 1))],
      [Buffer.from([0xff, 0xfe]), rec('key not UTF-8')],
    ];
    for (const [k, v] of invalid) {
      const r = t.apply(k, v);
      assert.equal(r.outcome, 'invalid', String(k));
      assert.ok(r.reason && r.reason.length > 0);
    }
    assert.deepEqual(t.list(), [{ id: 'q1', text: 'kept' }]);
  });

  it('unknown fields in a record are allowed', () => {
    const t = new StandingQueries();
    assert.equal(
      t.apply('q', Buffer.from(JSON.stringify({ schema: QUERY_SCHEMA, text: 't', owner: 'team-a' }))).outcome,
      'set',
    );
  });

  it('the order does not depend on arrival order', () => {
    const a = new StandingQueries();
    const b = new StandingQueries();
    const ids = ['b', 'a', 'c', 'B', 'a2', '10', '9'];
    ids.forEach((id) => a.apply(id, rec(id)));
    [...ids].reverse().forEach((id) => b.apply(id, rec(id)));
    assert.deepEqual(a.list(), b.list());
    assert.deepEqual(
      a.list().map((q) => q.id),
      ['10', '9', 'B', 'a', 'a2', 'b', 'c'],
    );
  });
});

describe("a video's queries", () => {
  it('are its own, then the standing ones', () => {
    const r = withStanding([{ id: 'e1', text: 'own' }], [{ id: 's1', text: 'standing' }]);
    assert.deepEqual(r.queries, [
      { id: 'e1', text: 'own' },
      { id: 's1', text: 'standing' },
    ]);
    assert.equal(r.dropped, 0);
  });

  it('stop at the query limit, reporting how many standing queries were left out', () => {
    const own = Array.from({ length: 3 }, (_, i) => ({ id: `e${i}`, text: 'x' }));
    const standing = Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, text: 'y' }));
    const r = withStanding(own, standing, 6);
    assert.equal(r.queries.length, 6);
    assert.deepEqual(
      r.queries.map((q) => q.id),
      ['e0', 'e1', 'e2', 's0', 's1', 's2'],
    );
    assert.equal(r.dropped, 2);
  });
});
