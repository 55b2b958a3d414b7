/**
 * The inference worker thread: owns the ONNX Runtime sessions and runs every batch, so the main
 * thread's event loop keeps serving ffmpeg pipes, Kafka and HTTP while the encoder computes.
 * Protocol (structured clone; buffers are transferred, not copied): see sessions.ts.
 */
import { parentPort } from 'node:worker_threads';
import { ClipstreamError, toClipstreamError } from '../errors.js';
import type { Manifest } from './manifest.js';
import { openSessions, releaseSessions, runImage, runText } from './ort-sessions.js';
import type { OpenSessions } from './ort-sessions.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker must run as a worker thread');

let sessions: OpenSessions | undefined;
let manifest: Manifest | undefined;
/**
 * Requests under way (init, image, text). `release` waits for them: releasing a session while
 * ONNX Runtime still loads or runs it throws a Napi::Error from native code, which aborts the
 * whole process ("terminate called after throwing an instance of 'Napi::Error'"), e.g. when
 * `clipstream run` fails early on a refused URI while the text encoder is still running.
 */
const inFlight = new Set<Promise<void>>();

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

function failure(id: number, err: unknown): WorkerReply {
  const e = toClipstreamError(err, 'CLIPSTREAM_INFERENCE_FAILED');
  return { type: 'error', id, error: { code: e.code, message: e.message } };
}

port.on('message', (msg: WorkerRequest) => {
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
    reply({ type: 'released', id });
  } catch (err) {
    reply(failure(id, err));
  } finally {
    port!.close();
  }
}

async function handle(msg: WorkerRequest): Promise<void> {
  try {
    switch (msg.type) {
      case 'init': {
        manifest = msg.manifest;
        sessions = await openSessions(msg.manifest, msg.files, msg.runtime);
        reply({
          type: 'ready',
          id: msg.id,
          provider: sessions.provider,
          ...(sessions.fallback ? { fallback: sessions.fallback } : {}),
        });
        return;
      }
      case 'image': {
        if (releasing)
          throw new ClipstreamError('CLIPSTREAM_ABORTED', 'the inference worker is releasing its sessions');
        if (!sessions || !manifest)
          throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference worker not initialised');
        const embeds = await runImage(sessions, manifest, msg.pixels, msg.n);
        const copy = embeds.slice(); // own buffer, transferable
        reply({ type: 'image', id: msg.id, embeds: copy }, [copy.buffer as ArrayBuffer]);
        return;
      }
      case 'text': {
        if (releasing)
          throw new ClipstreamError('CLIPSTREAM_ABORTED', 'the inference worker is releasing its sessions');
        if (!sessions || !manifest)
          throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'inference worker not initialised');
        const out = await runText(sessions, manifest, msg.ids, msg.mask, msg.n);
        const sentence = out.sentence.slice();
        const tokens = out.tokens.slice();
        reply({ type: 'text', id: msg.id, sentence, tokens }, [
          sentence.buffer as ArrayBuffer,
          tokens.buffer as ArrayBuffer,
        ]);
        return;
      }
      case 'release':
        return; // handled by release(), after the requests under way
    }
  } catch (err) {
    reply(failure(msg.id, err));
  }
}
