/**
 * The input contract `clipstream.video.v1` (design.md 3.3): parsing untrusted bytes into a
 * validated event, or a coded error that names what is wrong (for the DLQ record).
 */
import { z } from 'zod';
import { isLiveUri } from '../live/source.js';
import { ClipstreamError } from '../errors.js';
import { DEFAULT_SAMPLING, MAX_SAMPLING_FPS, samplingSchema } from '../frames/index.js';
import type { ResolvedSampling } from '../frames/index.js';
import { TEXT_LIMITS, checkText } from '../limits.js';
import type { QuerySpec } from '../pipeline/index.js';

export const VIDEO_EVENT_SCHEMA = 'clipstream.video.v1';

/**
 * Size bounds of one event; an event over them is refused (DLQ). Text bounds come from the one
 * text-limits module (src/limits.ts): a long text is truncated to the model's context, not refused.
 */
export const EVENT_LIMITS = Object.freeze({
  /** largest event value, in bytes (UTF-8 JSON) */
  maxEventBytes: 2 * 1024 * 1024,
  /** longest videoId or query id, in characters */
  maxIdLength: TEXT_LIMITS.maxIdLength,
  /** longest query or caption text accepted, in characters */
  maxTextLength: TEXT_LIMITS.maxTextLength,
  /** longest URI, in characters */
  maxUriLength: 8192,
  maxQueries: TEXT_LIMITS.maxQueries,
  maxCaptions: TEXT_LIMITS.maxCaptions,
  /** highest sampling rate an event may ask for, in frames per second (the frames stage's limit) */
  maxFps: MAX_SAMPLING_FPS,
});

const id = z.string().min(1).max(EVENT_LIMITS.maxIdLength);
// Text content is checked separately (checkText) so that text problems get CLIPSTREAM_BAD_TEXT.
const text = z.string();

export const VideoEventSchema = z.looseObject({
  schema: z.literal(VIDEO_EVENT_SCHEMA),
  videoId: id,
  uri: z.string().min(1).max(EVENT_LIMITS.maxUriLength),
  queries: z.array(z.looseObject({ id, text })).max(EVENT_LIMITS.maxQueries).optional(),
  captions: z.array(text).max(EVENT_LIMITS.maxCaptions).optional(),
  sampling: samplingSchema.optional(),
});

/** An event as producers write it (defaults not filled in). */
export type VideoEvent = z.input<typeof VideoEventSchema>;

/** A validated event in the shape the pipeline takes. */
export interface ParsedEvent {
  readonly videoId: string;
  readonly uri: string;
  readonly queries: readonly QuerySpec[];
  readonly captions: readonly string[];
  readonly sampling: ResolvedSampling;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export { checkText };

function describeIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid event';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** Validates an already-decoded JSON value as a video event. */
export function validateEvent(value: unknown): ParsedEvent {
  const r = VideoEventSchema.safeParse(value);
  if (!r.success) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_EVENT',
      `not a ${VIDEO_EVENT_SCHEMA} event: ${describeIssue(r.error)}`,
    );
  }
  const e = r.data;
  if (isLiveUri(e.uri)) {
    throw new ClipstreamError(
      'CLIPSTREAM_LIVE_SOURCE',
      `${e.uri.slice(0, 200)} is a live source: publish it as a stream (clipstream stream start), not as a video`,
    );
  }
  const queries = (e.queries ?? []).map((q, i) => {
    checkText(q.text, `queries[${i}].text`);
    return { id: q.id, text: q.text };
  });
  const captions = e.captions ?? [];
  captions.forEach((c, i) => checkText(c, `captions[${i}]`));
  return { videoId: e.videoId, uri: e.uri, queries, captions, sampling: e.sampling ?? DEFAULT_SAMPLING };
}

/**
 * Parses a message value: UTF-8 JSON of a `clipstream.video.v1` event. Throws
 * CLIPSTREAM_BAD_EVENT_JSON (not UTF-8 JSON), CLIPSTREAM_BAD_EVENT (wrong shape or sizes) or
 * CLIPSTREAM_BAD_TEXT (a query or caption text that cannot be used).
 */
export function parseEvent(bytes: Uint8Array | null | undefined): ParsedEvent {
  if (!bytes || bytes.length === 0) {
    throw new ClipstreamError('CLIPSTREAM_BAD_EVENT_JSON', 'the message has no value');
  }
  if (bytes.length > EVENT_LIMITS.maxEventBytes) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_EVENT',
      `the event is too large (${bytes.length} > ${EVENT_LIMITS.maxEventBytes} bytes)`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    const why = err instanceof TypeError ? 'not valid UTF-8' : 'not valid JSON';
    throw new ClipstreamError('CLIPSTREAM_BAD_EVENT_JSON', `the message value is ${why}`, { cause: err });
  }
  return validateEvent(json);
}

/** Builds an event for publishing (the CLI's `publish`), validated like the worker validates it. */
export function buildEvent(parts: {
  videoId: string;
  uri: string;
  queries?: readonly QuerySpec[];
  captions?: readonly string[];
  sampling?: VideoEvent['sampling'];
}): VideoEvent {
  const event: VideoEvent = {
    schema: VIDEO_EVENT_SCHEMA,
    videoId: parts.videoId,
    uri: parts.uri,
    ...(parts.queries && parts.queries.length > 0 ? { queries: parts.queries.map((q) => ({ ...q })) } : {}),
    ...(parts.captions && parts.captions.length > 0 ? { captions: [...parts.captions] } : {}),
    ...(parts.sampling ? { sampling: parts.sampling } : {}),
  };
  validateEvent(event);
  return event;
}
