// Property: the bundled pack's tokenizer takes any string (any Unicode, control characters, up
// to the raw text limit) and gives a context-length encoding, never a throw; `truncated` says
// whether the text was cut.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { BUNDLED_MODEL } from '../../../src/cli/common.js';
import { TextTokenizer } from '../../../src/embed/tokenizer.js';
import { TEXT_LIMITS } from '../../../src/limits.js';

describe('tokenizer (property)', () => {
  let tok: TextTokenizer;
  /** The same tokenizer with a longer context: the oracle for whether a text fits in L. */
  let wide: TextTokenizer;
  const L = 16;
  before(async () => {
    tok = await TextTokenizer.fromFile(join(BUNDLED_MODEL, 'tokenizer.json'), L, 0);
    wide = await TextTokenizer.fromFile(join(BUNDLED_MODEL, 'tokenizer.json'), 4 * L, 0);
  });

  const check = (text: string) => {
    const e = tok.encode(text);
    assert.equal(e.ids.length, L);
    assert.equal(e.mask.length, L);
    assert.equal(e.wordPositions.length, e.words.length);
    for (const p of e.wordPositions) assert.ok(p >= 0 && p < L && e.mask[p] === 1);
    return e;
  };

  it('regression: a text of exactly the context length fills the mask and is not cut', () => {
    const unit = '\u{10000}\u{10000}\u{10000}\u{10000}\u0000\u{10000}\u{10000}\t\u0000';
    const text = unit.repeat(Math.ceil(200 / unit.length)).slice(0, 200);
    const e = check(text);
    const w = wide.encode(text);
    assert.equal(e.truncated, w.truncated || w.mask.reduce((a, b) => a + b, 0) > L);
  });

  it('any short string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        (s) => {
          check(s);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('long strings up to the raw limit are truncated, never refused', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }),
        fc.integer({ min: 200, max: TEXT_LIMITS.maxTextLength }),
        (unit, length) => {
          const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
          const e = check(text);
          // Cut exactly when the text needs more than L tokens (a text of exactly L fills the
          // mask and is not cut: regression, seed -20269731 found one).
          const w = wide.encode(text);
          const needed = w.mask.reduce((a, b) => a + b, 0);
          assert.equal(e.truncated, w.truncated || needed > L, JSON.stringify(text.slice(0, 40)));
        },
      ),
      { numRuns: 20 },
    );
  });
});
