/**
 * Coded errors. Every failure that can reach a user (CLI stderr line, DLQ record, log line)
 * carries one of these codes, so the worker decides retry-vs-DLQ by code and never by matching
 * message text. `docs/errors.md` documents every code; a unit test keeps the two in step.
 */

export const ERROR_CODES = {
  // configuration and start-up
  CLIPSTREAM_BAD_CONFIG: { retryable: false, summary: 'a flag, environment variable or option is invalid' },
  CLIPSTREAM_BAD_ARGUMENT: { retryable: false, summary: 'a command-line argument is missing or invalid' },
  CLIPSTREAM_FFMPEG_MISSING: { retryable: false, summary: 'ffmpeg or ffprobe cannot be found or run' },
  // input events and sources
  CLIPSTREAM_BAD_EVENT_JSON: { retryable: false, summary: 'a video event is not valid JSON' },
  CLIPSTREAM_BAD_EVENT: { retryable: false, summary: 'a video event does not match clipstream.video.v1' },
  CLIPSTREAM_BAD_TEXT: {
    retryable: false,
    summary: 'a query or caption text is empty, too long or not valid text',
  },
  CLIPSTREAM_BAD_URI: {
    retryable: false,
    summary: 'a source URI cannot be parsed or uses an unsupported scheme',
  },
  CLIPSTREAM_URI_REFUSED: {
    retryable: false,
    summary: 'a source URI points outside the media root or to a refused network address',
  },
  CLIPSTREAM_SOURCE_NOT_FOUND: { retryable: false, summary: 'the source file or URL does not exist' },
  CLIPSTREAM_SOURCE_UNAVAILABLE: {
    retryable: true,
    summary: 'the source could not be fetched right now (timeout, connection, server error)',
  },
  CLIPSTREAM_SOURCE_TOO_LARGE: {
    retryable: false,
    summary: 'the source exceeds a configured limit (size, duration, resolution, frames)',
  },
  // decoding
  CLIPSTREAM_PROBE_FAILED: { retryable: false, summary: 'ffprobe could not read the source as media' },
  CLIPSTREAM_NO_VIDEO_STREAM: { retryable: false, summary: 'the source has no video stream' },
  CLIPSTREAM_DECODE_FAILED: { retryable: false, summary: 'ffmpeg failed while decoding the source' },
  CLIPSTREAM_DECODE_TIMEOUT: {
    retryable: false,
    summary: 'decoding took longer than the configured limit and ffmpeg was killed',
  },
  CLIPSTREAM_NO_FRAMES: { retryable: false, summary: 'sampling produced no frames' },
  // model
  CLIPSTREAM_MODEL_INVALID: { retryable: false, summary: 'the model pack manifest is missing or invalid' },
  CLIPSTREAM_MODEL_FILE_MISSING: { retryable: false, summary: 'a file named by the model pack is missing' },
  CLIPSTREAM_MODEL_CHECKSUM: { retryable: false, summary: 'a model pack file does not match its sha256' },
  CLIPSTREAM_MODEL_MISMATCH: {
    retryable: false,
    summary: 'an ONNX graph does not have the inputs or outputs the contract requires',
  },
  CLIPSTREAM_MODEL_LOAD_FAILED: { retryable: false, summary: 'ONNX Runtime could not load a model file' },
  CLIPSTREAM_DEVICE_UNAVAILABLE: {
    retryable: false,
    summary: 'the requested execution provider (e.g. CUDA) is not available',
  },
  CLIPSTREAM_INFERENCE_FAILED: { retryable: true, summary: 'ONNX Runtime failed while running a batch' },
  CLIPSTREAM_TOKENIZER_FAILED: { retryable: false, summary: 'the tokenizer could not encode a text' },
  // kafka and lifecycle
  CLIPSTREAM_KAFKA_UNAVAILABLE: {
    retryable: true,
    summary: 'the Kafka cluster cannot be reached or refused a request',
  },
  CLIPSTREAM_TOPIC_MISSING: { retryable: false, summary: 'a topic does not exist and may not be created' },
  CLIPSTREAM_RESULT_TOO_LARGE: {
    retryable: false,
    summary: 'a result document is larger than the largest message the worker may publish',
  },
  CLIPSTREAM_PUBLISH_FAILED: {
    retryable: true,
    summary: 'a result or DLQ record was not acknowledged by the broker',
  },
  CLIPSTREAM_ABORTED: {
    retryable: true,
    summary: 'work was aborted (shutdown or rebalance) and will be redone',
  },
  CLIPSTREAM_RETRIES_EXHAUSTED: {
    retryable: false,
    summary: 'a retryable fault persisted past the retry budget',
  },
  CLIPSTREAM_WORKER_CRASHED: {
    retryable: false,
    summary: 'processing the event ended the worker process too many times (crash-loop protection)',
  },
  // search store (design.md 3.7)
  CLIPSTREAM_STORE_LOCKED: {
    retryable: false,
    summary: 'an embedded search store is already open in another process',
  },
  CLIPSTREAM_STORE_FAILED: {
    retryable: true,
    summary: 'the search store could not be opened, migrated or written',
  },
  CLIPSTREAM_STORE_MODEL_MISMATCH: {
    retryable: false,
    summary: 'embeddings or a query model differ from the model the search store holds',
  },
  CLIPSTREAM_BAD_CHUNK: {
    retryable: false,
    summary: 'an embeddings message is not valid JSON or does not match clipstream.embeddings.v1',
  },
  // live streams (design.md 3.6)
  CLIPSTREAM_LIVE_SOURCE: {
    retryable: false,
    summary: 'a video event names a live source (rtsp or live HLS): publish it as a stream',
  },
  CLIPSTREAM_STREAM_LOST: {
    retryable: false,
    summary: 'a live stream could not be reconnected after CLIPSTREAM_STREAM_RECONNECTS attempts in a row',
  },
  CLIPSTREAM_BAD_STREAM: { retryable: false, summary: 'a stream spec does not match clipstream.stream.v1' },
  CLIPSTREAM_INTERNAL: { retryable: false, summary: 'an unexpected internal error' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ClipstreamError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClipstreamError';
    this.code = code;
    this.retryable = options?.retryable ?? ERROR_CODES[code].retryable;
  }
}

export function isClipstreamError(err: unknown): err is ClipstreamError {
  return err instanceof ClipstreamError;
}

/** Wraps anything thrown into a coded error, keeping the original as `cause`. */
export function toClipstreamError(
  err: unknown,
  fallback: ErrorCode = 'CLIPSTREAM_INTERNAL',
): ClipstreamError {
  if (err instanceof ClipstreamError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return new ClipstreamError('CLIPSTREAM_ABORTED', 'aborted', { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ClipstreamError(fallback, message, { cause: err });
}

/** One-line rendering for stderr and logs: `CODE: message`, newlines flattened. */
export function formatError(err: unknown): string {
  const e = toClipstreamError(err);
  return `${e.code}: ${e.message.replace(/\s*\n\s*/g, ' ').trim()}`;
}
