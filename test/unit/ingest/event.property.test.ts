// Property: any message value is a validated event or one coded error (the DLQ record's code),
// never an uncoded throw; valid events with any text within the limits are accepted as given.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ClipstreamError } from '../../../src/errors.js';
import { parseEvent } from '../../../src/ingest/event.js';
import { TEXT_LIMITS } from '../../../src/limits.js';

const EVENT_CODES = new Set(['CLIPSTREAM_BAD_EVENT_JSON', 'CLIPSTREAM_BAD_EVENT', 'CLIPSTREAM_BAD_TEXT']);

function parsedOrCoded(bytes: Uint8Array): void {
  try {
    const e = parseEvent(bytes);
    assert.equal(typeof e.videoId, 'string');
    assert.equal(typeof e.uri, 'string');
  } catch (err) {
    assert.ok(err instanceof ClipstreamError && EVENT_CODES.has(err.code), String(err));
  }
}

const utf8 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

/** Any Unicode: graphemes, lone surrogates and control characters (binary units). */
const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({
    unit: fc.constantFrom('\u0000', '\u0007', '\t', '\n', '\u007f', '\ud800', '\udfff', ' ', 'a'),
    maxLength: 50,
  }),
);

describe('event JSON (property)', () => {
  it('any bytes: an event or BAD_EVENT_JSON / BAD_EVENT / BAD_TEXT', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => parsedOrCoded(b)),
      { numRuns: 500 },
    );
  });

  it('any JSON value: an event or one of the event codes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => parsedOrCoded(utf8(v))),
      { numRuns: 500 },
    );
  });

  it('event-shaped values with any field contents: an event or one of the event codes', () => {
    const event = fc.record(
      {
        schema: fc.oneof(fc.constant('clipstream.video.v1'), fc.string()),
        videoId: fc.oneof(anyText, fc.integer()),
        uri: anyText,
        queries: fc.array(fc.record({ id: anyText, text: fc.oneof(anyText, fc.integer()) }), {
          maxLength: 4,
        }),
        captions: fc.array(anyText, { maxLength: 4 }),
        sampling: fc.record({
          strategy: fc.oneof(fc.constantFrom('fps', 'keyframes', 'scene'), fc.string()),
          fps: fc.oneof(fc.double(), fc.integer()),
          threshold: fc.double(),
        }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(event, (v) => parsedOrCoded(utf8(v))),
      { numRuns: 500 },
    );
  });

  it('a printable text of any length up to the raw limit is accepted exactly as given', () => {
    const printable = fc
      .string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }) // printable ASCII only
      .filter((s) => s.trim().length > 0);
    fc.assert(
      fc.property(printable, fc.integer({ min: 1, max: TEXT_LIMITS.maxTextLength / 64 }), (unit, times) => {
        const text = unit.repeat(times).slice(0, TEXT_LIMITS.maxTextLength);
        const e = parseEvent(
          utf8({
            schema: 'clipstream.video.v1',
            videoId: 'v',
            uri: 'https://example.com/v.mp4',
            queries: [{ id: 'q', text }],
          }),
        );
        assert.equal(e.queries[0]?.text, text);
      }),
      { numRuns: 30 },
    );
  });
});
