/**
 * The live messages of design.md 3.6, each with ONE zod schema: the stream spec
 * (`clipstream.stream.v1`, the value of the compacted streams topic) and the alert
 * (`clipstream.alert.v1`). Window documents are result documents with extra fields (window.ts).
 */
import { z } from 'zod';
import { ClipstreamError } from '../errors.js';
import { samplingSchema } from '../frames/index.js';

export const STREAM_SCHEMA = 'clipstream.stream.v1';
export const ALERT_SCHEMA = 'clipstream.alert.v1';

const text = z.string().min(1).max(1000);

/** A stream spec: what the owner of its partition runs. */
export const StreamSpecSchema = z
  .looseObject({
    schema: z.literal(STREAM_SCHEMA),
    uri: z.string().min(1).max(8192),
    queries: z
      .array(z.object({ id: z.string().min(1).max(256), text }))
      .max(256)
      .optional(),
    captions: z.array(text).max(1024).optional(),
    sampling: samplingSchema.optional(),
    /** Window length in seconds; default CLIPSTREAM_WINDOW_SEC. */
    windowSec: z.number().min(1).max(3600).optional(),
    /** rtsp:// only: RTP interleaved in the RTSP connection (tcp, the default) or over UDP (CLIPSTREAM_RTSP_UDP must allow it). */
    rtspTransport: z.enum(['tcp', 'udp']).optional(),
  })
  .refine((s) => s.rtspTransport === undefined || /^rtsp:/i.test(s.uri), {
    message: 'rtspTransport applies to rtsp:// sources only',
    path: ['rtspTransport'],
  });
export type StreamSpec = z.output<typeof StreamSpecSchema>;

/** An alert: a moment of a query opened, sent when it opens. Exactly one of streamId / videoId. */
export const AlertSchema = z
  .object({
    schema: z.literal(ALERT_SCHEMA),
    streamId: z.string().min(1).optional(),
    videoId: z.string().min(1).optional(),
    queryId: z.string(),
    text: z.string(),
    momentId: z.string().min(1),
    /** Seconds since stream.startTime (streams) or since the video's start (videos). */
    startSec: z.number().min(0),
    /** ISO-8601 UTC of startSec (streams: stream.startTime + startSec; videos: when it was seen). */
    startTime: z.string(),
    score: z.number(),
  })
  .refine((a) => (a.streamId === undefined) !== (a.videoId === undefined), 'one of streamId or videoId');
export type Alert = z.output<typeof AlertSchema>;

/** Parses a stream spec's JSON bytes; CLIPSTREAM_BAD_STREAM when it is not one. */
export function parseStreamSpec(raw: Buffer | string): StreamSpec {
  let json: unknown;
  try {
    json = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_BAD_STREAM', 'stream spec is not valid JSON', { cause: err });
  }
  const r = StreamSpecSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ClipstreamError(
      'CLIPSTREAM_BAD_STREAM',
      `stream spec does not match ${STREAM_SCHEMA}: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : ''}`,
    );
  }
  return r.data;
}
