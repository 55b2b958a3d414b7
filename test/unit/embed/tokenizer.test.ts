import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { wordLevelTokenizer } from '../../../src/bench/models/text.js';
import { TextTokenizer } from '../../../src/embed/tokenizer.js';

/** A small word-level tokenizer.json (Hugging Face format): ids 0-3 special, then the words in this order. */
const tokenizerJson = wordLevelTokenizer([
  '[PAD]',
  '[UNK]',
  '[BOS]',
  '[EOS]',
  'a',
  'red',
  'circle',
  'and',
  'blue',
  'square',
]) as {
  model: Record<string, unknown>;
};

describe('TextTokenizer', () => {
  let dir: string;
  let tok: TextTokenizer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clipstream-tok-'));
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
    tok = await TextTokenizer.fromFile(join(dir, 'tokenizer.json'), 8, 0);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('adds special tokens, pads to the context length and masks padding', () => {
    const e = tok.encode('A Red circle');
    assert.deepEqual(Array.from(e.ids), [2, 4, 5, 6, 3, 0, 0, 0]);
    assert.deepEqual(Array.from(e.mask), [1, 1, 1, 1, 1, 0, 0, 0]);
    assert.deepEqual(e.wordPositions, [1, 2, 3]);
    assert.deepEqual(e.words, ['a', 'red', 'circle']);
  });

  it('keeps unknown words as word tokens (they must find support too)', () => {
    const e = tok.encode('a purple circle');
    assert.deepEqual(Array.from(e.ids.subarray(0, 5)), [2, 4, 1, 6, 3]);
    assert.deepEqual(e.wordPositions, [1, 2, 3]);
  });

  it('truncates to the context length and keeps the end token last', () => {
    const e = tok.encode('a red circle and a blue square and a red square');
    assert.equal(e.ids.length, 8);
    assert.deepEqual(Array.from(e.ids), [2, 4, 5, 6, 7, 4, 8, 3]);
    assert.deepEqual(Array.from(e.mask), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(e.wordPositions, [1, 2, 3, 4, 5, 6]);
  });

  it('encodes the empty string and odd Unicode without throwing', () => {
    assert.deepEqual(Array.from(tok.encode('').ids.subarray(0, 3)), [2, 3, 0]);
    assert.equal(tok.encode('').wordPositions.length, 0);
    const e = tok.encode('🟥 ⚪️ \u0000 \t\n red');
    assert.equal(e.ids[0], 2);
    assert.ok(e.words.includes('red'));
  });

  it('regression: an unknown token that is also the end token (as in CLIP) stays special, so truncation keeps it', async () => {
    const clipLike = { ...tokenizerJson, model: { ...tokenizerJson.model, unk_token: '[EOS]' } };
    await writeFile(join(dir, 'clip-like.json'), JSON.stringify(clipLike));
    const t = await TextTokenizer.fromFile(join(dir, 'clip-like.json'), 8, 0);
    const e = t.encode('a red circle and a blue square and a red square');
    assert.equal(e.ids[7], 3);
    assert.ok(t.isSpecial(3));
    assert.ok(!e.wordPositions.includes(7));
  });

  it('says whether a text was cut: short text no, more tokens than the context yes', () => {
    assert.equal(tok.encode('a red circle').truncated, false);
    assert.equal(tok.encode('a red circle and a blue').truncated, false); // 6 words + 2 specials = 8
    assert.equal(tok.encode('a red circle and a blue square').truncated, true);
  });

  it('regression: a 100,000-character text is truncated to the context, not refused (end token kept)', () => {
    const e = tok.encode('a red circle and '.repeat(6000));
    assert.equal(e.truncated, true);
    assert.deepEqual(Array.from(e.ids), [2, 4, 5, 6, 7, 4, 5, 3]);
    const oneWord = tok.encode('x'.repeat(100_000));
    assert.equal(oneWord.truncated, true);
    assert.equal(oneWord.ids[0], 2);
  });
});
