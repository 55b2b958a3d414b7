/**
 * A tiny text encoder and word-level tokenizer, only so that the benchmark model forms a whole
 * model pack (docs/model-pack.md) the real Embedder and pipeline can load. Its cost is not what
 * the benchmark measures: text is embedded once per query and cached, and every timed run starts
 * with the cache warm. Graph: token table lookup -> token_embeds (padding zeroed) -> masked sum
 * -> L2 normalise -> text_embeds.
 */
import { GraphBuilder } from '../onnx/builder.js';
import type { ModelSpec } from '../onnx/proto.js';
import { Prng } from './prng.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[BOS]', '[EOS]'] as const;

/** Vocabulary: the special tokens, then the distinct lower-case words of `texts`. */
export function vocabularyOf(texts: readonly string[]): string[] {
  const words = new Set<string>();
  for (const t of texts) for (const w of t.toLowerCase().match(/\w+/g) ?? []) words.add(w);
  return [...SPECIAL_TOKENS, ...[...words].sort()];
}

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

export function buildTextModel(vocabSize: number, contextLength: number, dim: number, seed = 2): ModelSpec {
  const g = new GraphBuilder('bench_text');
  const ids = g.input('input_ids');
  const mask = g.input('attention_mask');
  const table = g.f32('token_embedding', [vocabSize, dim], new Prng(seed).uniform(vocabSize * dim, 1));
  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: { i: 1 } }), g.i64('axis.last', [-1])]);
  const tokens = g.op('Mul', [g.op('Gather', [table, ids], { axis: { i: 0 } }), m]);
  g.output(tokens, 'token_embeds');
  const sum = g.op('ReduceSum', [tokens, g.i64('axis.seq', [1])], { keepdims: { i: 0 } });
  const norm = g.op('Max', [g.op('ReduceL2', [sum], { axes: { ints: [-1] }, keepdims: { i: 1 } }), g.scalar('eps', 1e-12)]);
  g.output(g.op('Div', [sum, norm]), 'text_embeds');
  return g.model(
    [
      { name: 'input_ids', type: 'int64', shape: ['N', contextLength] },
      { name: 'attention_mask', type: 'int64', shape: ['N', contextLength] },
    ],
    [
      { name: 'text_embeds', type: 'float32', shape: ['N', dim] },
      { name: 'token_embeds', type: 'float32', shape: ['N', contextLength, dim] },
    ],
    17,
    'clipstream benchmark text encoder (token lookup and pooling only; not a CLIP text tower)',
  );
}
