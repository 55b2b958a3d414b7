/**
 * The input contract `clipstream.video.v1` (design.md 3.3): parsing untrusted bytes into a
 * validated event, or a coded error that names what is wrong (for the DLQ record).
 */
import { z } from 'zod';
import { isLiveUri } from '../live/source.js';
import { ClipstreamError } from '../errors.js';
import type { Sampling } from '../frames/index.js';
import type { QuerySpec } from '../pipeline/index.js';

export const VIDEO_EVENT_SCHEMA = 'clipstream.video.v1';

/** Size bounds of one event; a larger event is refused (DLQ), never truncated. */
export const EVENT_LIMITS = Object.freeze({
  /** longest videoId or query id, in characters */
  maxIdLength: 256,
  /** longest query or caption text, in characters */
  maxTextLength: 4096,
  /** longest URI, in characters */
  maxUriLength: 8192,
  maxQueries: 256,
  maxCaptions: 1024,
  /** highest sampling rate an event may ask for, in frames per second */
  maxFps: 120,
});

/** Sampling of a video when the event names none. */
export const DEFAULT_EVENT_SAMPLING: Sampling = Object.freeze({ strategy: 'fps', fps: 1 });
const SCENE_DEFAULTS = Object.freeze({ threshold: 0.3, minSpacingSec: 0.5 });

const id = z.string().min(1).max(EVENT_LIMITS.maxIdLength);
// Text content is checked separately (checkText) so that text problems get CLIPSTREAM_BAD_TEXT.
const text = z.string();

export const VideoEventSchema = z.looseObject({
  schema: z.literal(VIDEO_EVENT_SCHEMA),
  videoId: id,
  uri: z.string().min(1).max(EVENT_LIMITS.maxUriLength),
  queries: z.array(z.looseObject({ id, text })).max(EVENT_LIMITS.maxQueries).optional(),
  captions: z.array(text).max(EVENT_LIMITS.maxCaptions).optional(),
  sampling: z
    .looseObject({
      strategy: z.enum(['fps', 'keyframes', 'scene']),
      fps: z.number().positive().max(EVENT_LIMITS.maxFps).optional(),
      threshold: z.number().gt(0).lt(1).optional(),
      minSpacingSec: z.number().min(0).max(3600).optional(),
    })
    .optional(),
});

export type VideoEvent = z.infer<typeof VideoEventSchema>;

/** A validated event in the shape the pipeline takes. */
export interface ParsedEvent {
  readonly videoId: string;
  readonly uri: string;
  readonly queries: readonly QuerySpec[];
  readonly captions: readonly string[];
  readonly sampling: Sampling;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// C0 controls other than tab, newline and carriage return, plus DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A query or caption text must be non-blank, bounded and printable. */
export function checkText(value: string, where: string): void {
  if (value.trim().length === 0) throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} is empty`);
  if (value.length > EVENT_LIMITS.maxTextLength) {
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_TEXT',
      `${where} is too long (${value.length} > ${EVENT_LIMITS.maxTextLength} characters)`,
    );
  }
  if (CONTROL.test(value))
    throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} contains control characters`);
  if (LONE_SURROGATE.test(value))
    throw new ClipstreamError('CLIPSTREAM_BAD_TEXT', `${where} is not well-formed Unicode`);
}

function describeIssue(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid event';
  const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** Builds the event's sampling for the frames stage. */
export function samplingOf(event: VideoEvent): Sampling {
  const s = event.sampling;
  if (!s) return DEFAULT_EVENT_SAMPLING;
  if (s.strategy === 'keyframes') return { strategy: 'keyframes' };
  if (s.strategy === 'scene') {
    return {
      strategy: 'scene',
      threshold: s.threshold ?? SCENE_DEFAULTS.threshold,
      minSpacingSec: s.minSpacingSec ?? SCENE_DEFAULTS.minSpacingSec,
    };
  }
  return { strategy: 'fps', fps: s.fps ?? 1 };
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
  return { videoId: e.videoId, uri: e.uri, queries, captions, sampling: samplingOf(e) };
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
