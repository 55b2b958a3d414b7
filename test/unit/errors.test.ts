import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ClipstreamError, ERROR_CODES, formatError, toClipstreamError } from '../../src/errors.js';

describe('errors', () => {
  it('every error code is documented in docs/errors.md, and nothing else is', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `(CLIPSTREAM_[A-Z_]+)`/gm)].map((m) => m[1]!));
    for (const code of Object.keys(ERROR_CODES)) assert.ok(documented.has(code), `${code} is not documented`);
    for (const code of documented)
      assert.ok(code in ERROR_CODES, `docs/errors.md names unknown code ${code}`);
  });

  it('retryable comes from the code unless overridden', () => {
    assert.equal(new ClipstreamError('CLIPSTREAM_SOURCE_UNAVAILABLE', 'x').retryable, true);
    assert.equal(new ClipstreamError('CLIPSTREAM_BAD_EVENT', 'x').retryable, false);
    assert.equal(new ClipstreamError('CLIPSTREAM_BAD_EVENT', 'x', { retryable: true }).retryable, true);
  });

  it('formats any thrown value as one line with a code', () => {
    assert.equal(formatError(new Error('a\n  b')), 'CLIPSTREAM_INTERNAL: a b');
    assert.equal(formatError('plain'), 'CLIPSTREAM_INTERNAL: plain');
    const abort = Object.assign(new Error('stop'), { name: 'AbortError' });
    assert.equal(toClipstreamError(abort).code, 'CLIPSTREAM_ABORTED');
  });
});
