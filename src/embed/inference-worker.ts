/**
 * An inference process (one encoder lane, started by sessions.ts): owns the ONNX Runtime sessions
 * and runs every batch, so the main process's event loop keeps serving ffmpeg pipes, Kafka and
 * HTTP while the encoder computes. Protocol (the IPC channel's structured clone): protocol.ts.
 *
 * It lives as long as its channel: when the main process disconnects (release, close) or dies,
 * this process exits. Terminal signals do not reach it (its own process group); the main process
 * decides when the lane ends.
 */
import { ClipstreamError, toClipstreamError } from '../errors.js';
import type { Manifest } from './manifest.js';
import { openSessions, releaseSessions, runImage, runText } from './ort-sessions.js';
import type { OpenSessions } from './ort-sessions.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

const send = process.send?.bind(process);
if (!send) throw new Error('inference-worker must run as a child process with an IPC channel (sessions.ts)');

let sessions: OpenSessions | undefined;
let manifest: Manifest | undefined;
/**
 * Requests under way (init, image, text). `release` waits for them: releasing a session while
 * ONNX Runtime still loads or runs it throws a Napi::Error from native code, which aborts the
 * whole process ("terminate called after throwing an instance of 'Napi::Error'"), e.g. when
 * `clipstream run` fails early on a refused URI while the text encoder is still running.
 */
const inFlight = new Set<Promise<void>>();

/** Sends `msg`; resolves once it is written (a reply after the main process has gone is dropped). */
function reply(msg: WorkerReply): Promise<void> {
  if (!process.connected) return Promise.resolve();
  return new Promise((resolve) => send!(msg, undefined, undefined, () => resolve()));
}

function failure(id: number, err: unknown): WorkerReply {
  const e = toClipstreamError(err, 'CLIPSTREAM_INFERENCE_FAILED');
  return { type: 'error', id, error: { code: e.code, message: e.message } };
}

// The main process is gone or done with this lane: nothing more will come.
process.on('disconnect', () => process.exit(0));

process.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'release') {
    void release(msg.id);
    return;
  }
  const p = handle(msg);
  inFlight.add(p);
  void p.finally(() => inFlight.delete(p));
});

let releasing = false;

async function release(id: number): Promise<void> {
  releasing = true;
  try {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    if (sessions) await releaseSessions(sessions);
    sessions = undefined;
    await reply({ type: 'released', id });
  } catch (err) {
    await reply(failure(id, err));
  } finally {
    if (process.connected) process.disconnect();
  }
}

async function handle(msg: WorkerRequest): Promise<void> {
  try {
    switch (msg.type) {
      case 'init': {
        manifest = msg.manifest;
        sessions = await openSessions(msg.manifest, msg.files, msg.runtime);
        await reply({
          type: 'ready',
          id: msg.id,
          provider: sessions.provider,
          ...(sessions.fallback ? { fallback: sessions.fallback } : {}),
        });
        return;
      }
      case 'image': {
        if (releasing)
          throw new ClipstreamError('CLIPSTREAM_ABORTED', 'the inference process is releasing its sessions');
        if (!sessions || !manifest)
          throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference process not initialised');
        const embeds = await runImage(sessions, manifest, msg.pixels, msg.n);
        // Its own buffer: the serialiser copies a view's whole ArrayBuffer.
        await reply({ type: 'image', id: msg.id, embeds: embeds.slice() });
        return;
      }
      case 'text': {
        if (releasing)
          throw new ClipstreamError('CLIPSTREAM_ABORTED', 'the inference process is releasing its sessions');
        if (!sessions || !manifest)
          throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference process not initialised');
        const out = await runText(sessions, manifest, msg.ids, msg.mask, msg.n);
        await reply({ type: 'text', id: msg.id, sentence: out.sentence.slice(), tokens: out.tokens.slice() });
        return;
      }
      case 'release':
        return; // handled by release(), after the requests under way
    }
  } catch (err) {
    await reply(failure(msg.id, err));
  }
}
