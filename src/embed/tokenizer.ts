import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { ClipstreamError } from '../errors.js';
import { cutText, tokenizeBudget } from '../limits.js';

export interface EncodedText {
  /** token ids, padded/truncated to the context length */
  readonly ids: Int32Array;
  /** 1 for real tokens (special tokens included), 0 for padding */
  readonly mask: Uint8Array;
  /** positions of word tokens: real tokens that are not special (unknown-word tokens count) */
  readonly wordPositions: readonly number[];
  /** token strings at `wordPositions`, for explanations and debugging */
  readonly words: readonly string[];
  /** true when the text had more tokens than the context length (or more characters than the tokenizer is shown) and was cut */
  readonly truncated: boolean;
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  model?: { unk_token?: string | null; vocab?: unknown };
  post_processor?: unknown;
}

/** Ids a post-processor inserts (TemplateProcessing, Bert/Roberta processing, Sequence of them). */
function postProcessorIds(pp: unknown, out = new Set<number>()): Set<number> {
  if (!pp || typeof pp !== 'object') return out;
  const p = pp as {
    special_tokens?: Record<string, { ids?: number[] }>;
    sep?: [string, number];
    cls?: [string, number];
    processors?: unknown[];
  };
  for (const t of Object.values(p.special_tokens ?? {})) for (const id of t.ids ?? []) out.add(id);
  if (Array.isArray(p.sep) && typeof p.sep[1] === 'number') out.add(p.sep[1]);
  if (Array.isArray(p.cls) && typeof p.cls[1] === 'number') out.add(p.cls[1]);
  for (const sub of p.processors ?? []) postProcessorIds(sub, out);
  return out;
}

/**
 * The model pack's tokenizer with the runtime rule of docs/model-pack.md: special tokens added,
 * truncated to the context length (any text length is accepted; `truncated` says it was cut) (the end token kept last when truncation cuts it off), right
 * padded with the pack's pad id.
 */
export class TextTokenizer {
  private readonly tok: Tokenizer;
  private readonly specialIds: ReadonlySet<number>;

  private constructor(
    json: TokenizerJson,
    readonly contextLength: number,
    readonly padId: number,
  ) {
    const unk = json.model?.unk_token ?? undefined;
    // tokenizers.js reads the unknown token of word-level models from the tokenizer config, not
    // from the model section as the Rust library does; pass it along so unknown words map to it.
    this.tok = new Tokenizer(json, unk ? { unk_token: unk } : {});
    // Special = tokens the post-processor adds (start/end, cls/sep) plus added tokens marked
    // special. The unknown token stays a word (an unknown word must still find support in a
    // frame), unless it doubles as a post-processor token, as CLIP's end-of-text does.
    const added = postProcessorIds(json.post_processor);
    const special = new Set<number>(added);
    for (const t of json.added_tokens ?? []) {
      if (t.special && (t.content !== unk || added.has(t.id))) special.add(t.id);
    }
    this.specialIds = special;
  }

  static async fromFile(path: string, contextLength: number, padId: number): Promise<TextTokenizer> {
    let json: TokenizerJson;
    try {
      json = JSON.parse(await readFile(path, 'utf8')) as TokenizerJson;
    } catch (err) {
      throw new ClipstreamError('CLIPSTREAM_MODEL_INVALID', `${path} is not a readable tokenizer.json`, {
        cause: err,
      });
    }
    try {
      return new TextTokenizer(json, contextLength, padId);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new ClipstreamError('CLIPSTREAM_MODEL_INVALID', `${path}: unsupported tokenizer: ${reason}`, {
        cause: err,
      });
    }
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  encode(text: string): EncodedText {
    if (typeof text !== 'string') throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', 'text is not a string');
    // Only the start of a long text can reach the context: tokenize a bounded prefix of it, so the
    // cost of one text is bounded whatever its length (src/limits.ts).
    const shown = cutText(text, tokenizeBudget(this.contextLength));
    let full: number[];
    let tokens: string[];
    try {
      const enc = this.tok.encode(shown, { add_special_tokens: true });
      full = enc.ids.map(Number);
      tokens = enc.tokens;
    } catch (err) {
      throw new ClipstreamError('CLIPSTREAM_TOKENIZER_FAILED', `could not tokenize text: ${String(err)}`, {
        cause: err,
      });
    }
    const L = this.contextLength;
    const ids = new Int32Array(L).fill(this.padId);
    const mask = new Uint8Array(L);
    const n = Math.min(full.length, L);
    for (let i = 0; i < n; i++) {
      ids[i] = full[i] as number;
      mask[i] = 1;
    }
    const last = full[full.length - 1];
    if (full.length > L && last !== undefined && this.specialIds.has(last)) ids[L - 1] = last;
    const wordPositions: number[] = [];
    const words: string[] = [];
    for (let i = 0; i < n; i++) {
      if (!this.specialIds.has(ids[i] as number)) {
        wordPositions.push(i);
        words.push(tokens[i] ?? '');
      }
    }
    return { ids, mask, wordPositions, words, truncated: full.length > L || shown.length < text.length };
  }
}
