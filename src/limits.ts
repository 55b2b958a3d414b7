/**
 * Text limits: the one home for how much text clipstream accepts and how it is cut (docs/security.md,
 * "Input limits"). Raw sizes are bounded so that a message or an argument cannot make the process
 * tokenize or hold unbounded text; within those bounds a long text is never refused for its
 * length: the tokenizer keeps the first context-length tokens and the result says
 * `truncated: true` for that query.
 */
import { ClipstreamError } from './errors.js';

export const TEXT_LIMITS = Object.freeze({
  /** longest query or caption text accepted at all, in UTF-16 code units; longer is BAD_TEXT */
  maxTextLength: 262_144,
  /** most queries of one video (its own plus standing queries) */
  maxQueries: 256,
  /** most captions in one video's caption bank */
  maxCaptions: 1024,
  /** longest videoId or query id, in characters */
  maxIdLength: 256,
  /**
   * Characters of a text handed to the tokenizer, per token of context: a text is cut to
   * `contextLength * tokenizeCharsPerToken` characters (at least `minTokenizeChars`) before
   * tokenizing, so tokenizing costs the same for a 200,000-character text as for a paragraph.
   */
  tokenizeCharsPerToken: 64,
  minTokenizeChars: 4096,
});

/** Characters of a text the tokenizer sees for a model of this context length. */
export function tokenizeBudget(contextLength: number): number {
  return Math.max(TEXT_LIMITS.minTokenizeChars, contextLength * TEXT_LIMITS.tokenizeCharsPerToken);
}

/**
 * The start of `text` of at most `max` UTF-16 code units, cut at a whitespace when one is near
 * the end (so the last word is not split) and never inside a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // a high surrogate whose pair would be cut off
  const space = text.slice(0, end).search(/\s\S*$/);
  if (space > end * 0.9) end = space;
  return text.slice(0, end);
}

// C0 controls other than tab, newline and carriage return, plus DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A query or caption text must be a non-blank, printable, well-formed string within the raw bound. */
export function checkText(value: unknown, where: string): asserts value is string {
  if (typeof value !== 'string') throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} is not a string`);
  if (value.trim().length === 0) throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} is empty`);
  if (value.length > TEXT_LIMITS.maxTextLength) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_TEXT',
      `${where} is too long (${value.length} > ${TEXT_LIMITS.maxTextLength} characters)`,
    );
  }
  if (CONTROL.test(value))
    throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} contains control characters`);
  if (LONE_SURROGATE.test(value))
    throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} is not well-formed Unicode`);
}

/** The texts of one video: bounded counts, each text checked. */
export function checkTexts(queries: readonly { text: string }[], captions: readonly string[]): void {
  if (queries.length > TEXT_LIMITS.maxQueries) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_TEXT',
      `too many queries (${queries.length} > ${TEXT_LIMITS.maxQueries})`,
    );
  }
  if (captions.length > TEXT_LIMITS.maxCaptions) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_TEXT',
      `too many captions (${captions.length} > ${TEXT_LIMITS.maxCaptions})`,
    );
  }
  queries.forEach((q, i) => checkText(q.text, `queries[${i}].text`));
  captions.forEach((c, i) => checkText(c, `captions[${i}]`));
}
