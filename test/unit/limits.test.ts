import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClipstreamError } from '../../src/errors.js';
import { TEXT_LIMITS, checkText, checkTexts, cutText, tokenizeBudget } from '../../src/limits.js';

const badText = (err: unknown) => err instanceof ClipstreamError && err.code === 'CLIPSTREAM_BAD_TEXT';

describe('text limits', () => {
  it('cuts at a whitespace near the end, never inside a surrogate pair', () => {
    assert.equal(cutText('short', 10), 'short');
    assert.equal(
      cutText('aaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', 10),
      'aaaa bbbbb',
    );
    assert.equal(cutText(`${'a'.repeat(95)} bbbbbbbbbb`, 100), 'a'.repeat(95));
    const emoji = `${'a'.repeat(9)}😀`; // 9 + 2 code units
    assert.equal(cutText(emoji, 10), 'a'.repeat(9));
  });

  it('bounds what the tokenizer sees by the context length', () => {
    assert.equal(tokenizeBudget(16), TEXT_LIMITS.minTokenizeChars);
    assert.equal(
      tokenizeBudget(77),
      Math.max(TEXT_LIMITS.minTokenizeChars, 77 * TEXT_LIMITS.tokenizeCharsPerToken),
    );
  });

  it('accepts a long paragraph and refuses only beyond the raw bound', () => {
    checkText('a red circle '.repeat(10_000), 'q');
    assert.throws(() => checkText('x'.repeat(TEXT_LIMITS.maxTextLength + 1), 'q'), badText);
    assert.throws(() => checkText('  ', 'q'), badText);
    assert.throws(() => checkText('a\u0000b', 'q'), badText);
    assert.throws(() => checkText('a\ud800b', 'q'), badText);
    assert.throws(() => checkText(42, 'q'), badText);
  });

  it('bounds the number of queries and captions', () => {
    const q = Array.from({ length: TEXT_LIMITS.maxQueries + 1 }, () => ({ text: 'x' }));
    assert.throws(() => checkTexts(q, []), badText);
    assert.throws(
      () =>
        checkTexts(
          [],
          Array.from({ length: TEXT_LIMITS.maxCaptions + 1 }, () => 'c'),
        ),
      badText,
    );
    checkTexts(q.slice(1), ['c']);
  });
});
