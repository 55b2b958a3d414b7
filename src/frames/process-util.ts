/** Small helpers shared by the probe and the decoder: stderr tails and failure codes. */
import { ClipstreamError, type ErrorCode } from '../errors.js';

/** Time between SIGTERM and SIGKILL when we stop ffmpeg or ffprobe. */
export const KILL_GRACE_MS = 300;

const MAX_LINES = 20;
const MAX_LINE_CHARS = 400;
const LEVEL_TAG = /^(?:\[[^\]]* @ 0x[0-9a-f]+\] )?\[(fatal|error|warning|info|verbose|debug|trace|panic)\] /;

/** The last few stderr lines of a child, bounded in count and length. */
export class StderrTail {
  private readonly lines: string[] = [];
  private partial = '';
  private lastError: string | undefined;

  /** Appends raw stderr text (may hold several lines or part of one). */
  push(text: string): void {
    const parts = (this.partial + text).split(/\r\n|\r|\n/);
    this.partial = (parts.pop() ?? '').slice(0, MAX_LINE_CHARS);
    for (const line of parts) this.pushLine(line);
  }

  /** Appends one complete line. */
  pushLine(raw: string): void {
    const line = raw.trimEnd().slice(0, MAX_LINE_CHARS);
    if (line === '') return;
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.shift();
    const level = LEVEL_TAG.exec(line)?.[1];
    if (level === 'error' || level === 'fatal' || level === 'panic') this.lastError = line;
  }

  /** The last line at error level (when lines carry level tags), else the last line, tidied. */
  lastErrorLine(): string | undefined {
    const pending = this.partial.trim();
    const line = this.lastError ?? (pending !== '' ? pending : this.lines.at(-1));
    return line === undefined ? undefined : tidy(line);
  }

  text(): string {
    return [...this.lines, this.partial].filter((l) => l !== '').join('\n');
  }
}

/** `[h264 @ 0x55d0] [error] Invalid data` → `h264: Invalid data`. */
export function tidy(line: string): string {
  return line
    .replace(/^\[([^\]]*) @ 0x[0-9a-f]+\] /, '$1: ')
    .replace(/\[(fatal|error|warning|info|verbose|debug|trace|panic)\] /, '')
    .trim();
}

/**
 * Picks the code for a failed ffmpeg/ffprobe run from its last error line: a missing file or
 * HTTP 404/410 is SOURCE_NOT_FOUND, connection trouble and HTTP 5xx are SOURCE_UNAVAILABLE
 * (retryable), anything else keeps the caller's code.
 */
export function classifyFfmpegFailure(fallback: ErrorCode, message: string, line: string): ClipstreamError {
  if (/No such file or directory|Server returned 40[34]|Server returned 410/i.test(line)) {
    return new ClipstreamError('CLIPSTREAM_SOURCE_NOT_FOUND', message);
  }
  if (
    /Connection refused|Connection timed out|timed out|Network is unreachable|Server returned 5(?:\d\d|XX)|Temporary failure|Connection reset|I\/O error/i.test(
      line,
    )
  ) {
    return new ClipstreamError('CLIPSTREAM_SOURCE_UNAVAILABLE', message);
  }
  return new ClipstreamError(fallback, message);
}
