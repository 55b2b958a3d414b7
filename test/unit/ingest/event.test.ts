import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipstreamError } from '../../../src/errors.js';
import type { ErrorCode } from '../../../src/errors.js';
import { buildEvent } from '../../../src/ingest/index.js';
import { EVENT_LIMITS, parseEvent } from '../../../src/ingest/event.js';

const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const base = { schema: 'clipstream.video.v1', videoId: 'v1', uri: 'file:///media/a.mp4' };

function refused(value: Buffer | null, code: ErrorCode, re?: RegExp) {
  assert.throws(
    () => parseEvent(value),
    (e: unknown) =>
      e instanceof ClipstreamError && e.code === code && (re === undefined || re.test(e.message)),
    `expected ${code}`,
  );
}

describe('video events (clipstream.video.v1)', () => {
  it('accepts the minimal event with defaults: no queries, no captions, 1 fps', () => {
    const e = parseEvent(bytes(base));
    assert.deepEqual(e, {
      videoId: 'v1',
      uri: 'file:///media/a.mp4',
      queries: [],
      captions: [],
      sampling: { strategy: 'fps', fps: 1 },
    });
  });

  it('accepts the full event and keeps texts exactly, in order', () => {
    const e = parseEvent(
      bytes({
        ...base,
        queries: [
          { id: 'q2', text: '  a red circle ' },
          { id: 'q1', text: 'ein blauer Würfel' },
        ],
        captions: ['a red circle', 'a blue square'],
        sampling: { strategy: 'fps', fps: 2 },
      }),
    );
    assert.deepEqual(e.queries, [
      { id: 'q2', text: '  a red circle ' },
      { id: 'q1', text: 'ein blauer Würfel' },
    ]);
    assert.deepEqual(e.captions, ['a red circle', 'a blue square']);
    assert.deepEqual(e.sampling, { strategy: 'fps', fps: 2 });
  });

  it('allows unknown fields at every level', () => {
    const e = parseEvent(
      bytes({
        ...base,
        extra: { x: 1 },
        queries: [{ id: 'q', text: 't', weight: 2 }],
        sampling: { strategy: 'keyframes', note: 'x' },
      }),
    );
    assert.equal(e.queries.length, 1);
    assert.deepEqual(e.sampling, { strategy: 'keyframes' });
  });

  it('maps sampling strategies: fps without a rate is 1 fps, scene gets its defaults', () => {
    assert.deepEqual(parseEvent(bytes({ ...base, sampling: { strategy: 'fps' } })).sampling, {
      strategy: 'fps',
      fps: 1,
    });
    assert.deepEqual(parseEvent(bytes({ ...base, sampling: { strategy: 'scene' } })).sampling, {
      strategy: 'scene',
      threshold: 0.3,
      minSpacingSec: 0.5,
    });
    assert.deepEqual(
      parseEvent(bytes({ ...base, sampling: { strategy: 'scene', threshold: 0.5 } })).sampling,
      {
        strategy: 'scene',
        threshold: 0.5,
        minSpacingSec: 0.5,
      },
    );
  });

  it('refuses what is not UTF-8 JSON with CLIPSTREAM_BAD_EVENT_JSON', () => {
    refused(null, 'CLIPSTREAM_BAD_EVENT_JSON', /no value/);
    refused(Buffer.alloc(0), 'CLIPSTREAM_BAD_EVENT_JSON');
    refused(bytes('{"schema": '), 'CLIPSTREAM_BAD_EVENT_JSON', /JSON/);
    refused(bytes('not json at all'), 'CLIPSTREAM_BAD_EVENT_JSON');
    refused(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'CLIPSTREAM_BAD_EVENT_JSON', /UTF-8/);
  });

  it('refuses a wrong shape with CLIPSTREAM_BAD_EVENT naming the field', () => {
    refused(bytes([1, 2]), 'CLIPSTREAM_BAD_EVENT');
    refused(bytes('"a string"'), 'CLIPSTREAM_BAD_EVENT');
    refused(bytes({ ...base, schema: 'clipstream.video.v2' }), 'CLIPSTREAM_BAD_EVENT', /schema/);
    refused(bytes({ schema: base.schema, uri: base.uri }), 'CLIPSTREAM_BAD_EVENT', /videoId/);
    refused(bytes({ schema: base.schema, videoId: 'v' }), 'CLIPSTREAM_BAD_EVENT', /uri/);
    refused(bytes({ ...base, videoId: '' }), 'CLIPSTREAM_BAD_EVENT', /videoId/);
    refused(bytes({ ...base, videoId: 7 }), 'CLIPSTREAM_BAD_EVENT', /videoId/);
    refused(bytes({ ...base, queries: [{ text: 'no id' }] }), 'CLIPSTREAM_BAD_EVENT', /queries\.0\.id/);
    refused(bytes({ ...base, queries: 'a red circle' }), 'CLIPSTREAM_BAD_EVENT', /queries/);
    refused(bytes({ ...base, captions: [1] }), 'CLIPSTREAM_BAD_EVENT', /captions/);
    refused(bytes({ ...base, sampling: { strategy: 'every-frame' } }), 'CLIPSTREAM_BAD_EVENT', /sampling/);
    refused(bytes({ ...base, sampling: { strategy: 'fps', fps: 0 } }), 'CLIPSTREAM_BAD_EVENT', /fps/);
    refused(
      bytes({ ...base, sampling: { strategy: 'fps', fps: EVENT_LIMITS.maxFps + 1 } }),
      'CLIPSTREAM_BAD_EVENT',
      /fps/,
    );
  });

  it('bounds sizes: ids, URI, query and caption counts', () => {
    const long = (n: number) => 'x'.repeat(n);
    assert.equal(
      parseEvent(bytes({ ...base, videoId: long(EVENT_LIMITS.maxIdLength) })).videoId.length,
      EVENT_LIMITS.maxIdLength,
    );
    refused(
      bytes({ ...base, videoId: long(EVENT_LIMITS.maxIdLength + 1) }),
      'CLIPSTREAM_BAD_EVENT',
      /videoId/,
    );
    refused(
      bytes({ ...base, queries: [{ id: long(EVENT_LIMITS.maxIdLength + 1), text: 't' }] }),
      'CLIPSTREAM_BAD_EVENT',
    );
    refused(bytes({ ...base, uri: long(EVENT_LIMITS.maxUriLength + 1) }), 'CLIPSTREAM_BAD_EVENT', /uri/);
    const queries = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `q${i}`, text: `text ${i}` }));
    assert.equal(
      parseEvent(bytes({ ...base, queries: queries(EVENT_LIMITS.maxQueries) })).queries.length,
      EVENT_LIMITS.maxQueries,
    );
    refused(
      bytes({ ...base, queries: queries(EVENT_LIMITS.maxQueries + 1) }),
      'CLIPSTREAM_BAD_EVENT',
      /queries/,
    );
    const captions = (n: number) => Array.from({ length: n }, (_, i) => `caption ${i}`);
    assert.equal(
      parseEvent(bytes({ ...base, captions: captions(EVENT_LIMITS.maxCaptions) })).captions.length,
      EVENT_LIMITS.maxCaptions,
    );
    refused(
      bytes({ ...base, captions: captions(EVENT_LIMITS.maxCaptions + 1) }),
      'CLIPSTREAM_BAD_EVENT',
      /captions/,
    );
  });

  it('refuses unusable texts with CLIPSTREAM_BAD_TEXT naming which one', () => {
    const q = (text: string) => bytes({ ...base, queries: [{ id: 'q', text }] });
    refused(q(''), 'CLIPSTREAM_BAD_TEXT', /queries\[0\]\.text is empty/);
    refused(q(' \t\n '), 'CLIPSTREAM_BAD_TEXT', /empty/);
    refused(q('x'.repeat(EVENT_LIMITS.maxTextLength + 1)), 'CLIPSTREAM_BAD_TEXT', /too long/);
    assert.equal(
      parseEvent(q('x'.repeat(EVENT_LIMITS.maxTextLength))).queries[0]?.text.length,
      EVENT_LIMITS.maxTextLength,
    );
    refused(q('a\u0000b'), 'CLIPSTREAM_BAD_TEXT', /control/);
    refused(q('bell\u0007'), 'CLIPSTREAM_BAD_TEXT', /control/);
    refused(q('half \ud83d pair'), 'CLIPSTREAM_BAD_TEXT', /Unicode/);
    assert.equal(parseEvent(q('tab\tand\nnewline \u{1F600}')).queries.length, 1);
    refused(bytes({ ...base, captions: ['ok', ''] }), 'CLIPSTREAM_BAD_TEXT', /captions\[1\]/);
  });

  it('buildEvent makes events the worker accepts, and checks them the same way', () => {
    const e = buildEvent({
      videoId: 'v',
      uri: 'https://example.com/a.mp4',
      queries: [{ id: 'q1', text: 'a dog' }],
    });
    assert.deepEqual(parseEvent(bytes(e)).queries, [{ id: 'q1', text: 'a dog' }]);
    assert.equal('captions' in e, false);
    assert.throws(() => buildEvent({ videoId: 'v', uri: 'x', queries: [{ id: 'q1', text: ' ' }] }), {
      code: 'CLIPSTREAM_BAD_TEXT',
    });
  });
});
