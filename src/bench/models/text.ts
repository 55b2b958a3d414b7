/**
 * A word-level tokenizer.json (Hugging Face format) for a small vocabulary. The benchmark's own
 * pack now carries CLIP's BPE tokenizer (bench/models/vit-b-32); this stays for the tokenizer
 * tests (test/unit/embed/tokenizer.test.ts), which need a word-level one.
 */

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[BOS]', '[EOS]'] as const;

/** tokenizer.json (Hugging Face format): lower-case, whitespace split, word level, [BOS] ... [EOS]. */
export function wordLevelTokenizer(vocab: readonly string[]): object {
  const ids = Object.fromEntries(vocab.map((w, i) => [w, i]));
  const special = (content: string, id: number) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((t, i) => special(t, i)),
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[BOS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[EOS]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[BOS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[EOS]', type_id: 0 } },
      ],
      special_tokens: {
        '[BOS]': { id: '[BOS]', ids: [2], tokens: ['[BOS]'] },
        '[EOS]': { id: '[EOS]', ids: [3], tokens: ['[EOS]'] },
      },
    },
    decoder: null,
    model: { type: 'WordLevel', vocab: ids, unk_token: '[UNK]' },
  };
}
