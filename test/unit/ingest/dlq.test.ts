import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipstreamError } from '../../../src/errors.js';
import { DLQ_SCHEMA, buildDlqMessage } from '../../../src/ingest/dlq.js';
import type { DlqRecord } from '../../../src/ingest/dlq.js';

const source = { topic: 'clipstream.videos', partition: 3, offset: '41' };

describe('DLQ records (clipstream.dlq.v1)', () => {
  it('has exactly the contract shape, keyed by the original key, headers carried over', () => {
    const value = Buffer.from('{"not": "an event"');
    const msg = buildDlqMessage(
      new ClipstreamError('CLIPSTREAM_BAD_EVENT_JSON', 'the message value is not valid JSON'),
      source,
      {
        key: Buffer.from('video-7'),
        value,
        headers: {
          traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
          x: Buffer.from('y'),
        },
      },
      1_000_000,
    );
    assert.equal(msg.key?.toString(), 'video-7');
    assert.equal(msg.headers.traceparent, '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01');
    assert.equal(msg.headers.x?.toString(), 'y');
    const record = JSON.parse(msg.value) as DlqRecord;
    assert.deepEqual(Object.keys(record).sort(), ['error', 'schema', 'source', 'value']);
    assert.equal(record.schema, DLQ_SCHEMA);
    assert.deepEqual(record.error, {
      code: 'CLIPSTREAM_BAD_EVENT_JSON',
      message: 'the message value is not valid JSON',
    });
    assert.deepEqual(record.source, source);
    assert.ok(Buffer.from(record.value ?? '', 'base64').equals(value), 'value is the original bytes, base64');
  });

  it('keeps binary values byte for byte, and a null key and value as null', () => {
    const value = Buffer.from([0, 255, 254, 10, 13, 0x80]);
    const a = JSON.parse(
      buildDlqMessage(
        { code: 'CLIPSTREAM_BAD_EVENT_JSON', message: 'x' },
        source,
        { key: null, value },
        1_000_000,
      ).value,
    ) as DlqRecord;
    assert.ok(Buffer.from(a.value ?? '', 'base64').equals(value));
    const b = buildDlqMessage(
      { code: 'CLIPSTREAM_BAD_EVENT_JSON', message: 'x' },
      source,
      { key: null, value: null },
      1_000_000,
    );
    assert.equal(b.key, null);
    assert.equal((JSON.parse(b.value) as DlqRecord).value, null);
  });

  it('flattens the message to one line', () => {
    const r = JSON.parse(
      buildDlqMessage(
        { code: 'CLIPSTREAM_DECODE_FAILED', message: 'ffmpeg said:\n  bad\n  data' },
        source,
        { key: null, value: null },
        1_000_000,
      ).value,
    ) as DlqRecord;
    assert.equal(r.error.message, 'ffmpeg said: bad data');
  });

  it('an original too large for one record keeps a prefix and says so, staying under the limit', () => {
    const limit = 100_000;
    const value = Buffer.alloc(90_000, 0x61);
    const msg = buildDlqMessage(
      { code: 'CLIPSTREAM_BAD_EVENT', message: 'too big' },
      source,
      { key: Buffer.from('k'), value },
      limit,
    );
    assert.ok(Buffer.byteLength(msg.value) <= limit, `${Buffer.byteLength(msg.value)} > ${limit}`);
    const r = JSON.parse(msg.value) as DlqRecord;
    assert.equal(r.valueTruncated, true);
    assert.equal(r.valueBytes, 90_000);
    const kept = Buffer.from(r.value ?? '', 'base64');
    assert.ok(kept.length > 0 && kept.length < value.length);
    assert.ok(value.subarray(0, kept.length).equals(kept), 'the prefix is the start of the original');
  });
});
