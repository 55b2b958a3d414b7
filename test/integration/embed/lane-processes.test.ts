/**
 * The encoder lanes are child processes (src/embed/sessions.ts), with real ONNX Runtime and the
 * bundled model:
 * - the event loop keeps turning while a batch computes (onnxruntime-node computes `run()` on
 *   the calling thread; on the main thread it stalled ffmpeg pipes, Kafka heartbeats and health
 *   probes for every batch);
 * - each lane is a child of this process in its own process group;
 * - a lane that dies fails the batch it was running (retryable) and gets a fresh process;
 * - the lanes end with the process that started them, even one killed outright;
 * - a terminal's Ctrl-C (SIGINT to the process group) leaves them running for the shutdown.
 * Checks ordering and outcomes, not speed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Embedder, loadModelPack } from '../../../src/embed/index.js';
import { ClipstreamError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { BUNDLED_PACK } from '../../helpers/cli.js';
import { sleep } from '../../helpers/media.js';
import { cosine } from '../../helpers/vectors.js';

const HOST = fileURLToPath(new URL('../../helpers/lane-host.js', import.meta.url));

/** ppid, process group and state of a live process (/proc/PID/stat), or undefined once gone or a zombie. */
async function stat(pid: number): Promise<{ ppid: number; pgrp: number } | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) is in parentheses and may hold spaces.
    const [state, ppid, pgrp] = s.slice(s.lastIndexOf(')') + 2).split(' ');
    if (state === 'Z') return undefined;
    return { ppid: Number(ppid), pgrp: Number(pgrp) };
  } catch {
    return undefined;
  }
}

/** Waits until none of `pids` is alive; false if some still are after `ms`. */
async function allGone(pids: readonly number[], ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    const alive = await Promise.all(pids.map(stat));
    if (alive.every((s) => s === undefined)) return true;
    if (Date.now() > until) return false;
    await sleep(50);
  }
}

describe('encoder lanes run in child processes', () => {
  let embedder: Embedder;
  before(async () => {
    embedder = await Embedder.open(
      await loadModelPack(BUNDLED_PACK),
      {
        runtime: { device: 'cpu', intraOpThreads: 1, lanes: 2, cudaDeviceId: 0 },
        batch: { maxBatch: 64, maxWaitMs: 1, maxQueued: 128 },
      },
      silentLogger,
    );
  });
  after(() => embedder.close());

  const frame = (v: number): Uint8Array => {
    const m = embedder.pack.manifest;
    const f = new Uint8Array(m.image.height * m.image.width * 3);
    for (let i = 0; i < f.length; i++) f[i] = (i * 13 + v * 7 + ((i / 3) | 0) * v) & 0xff;
    return f;
  };

  it('the event loop keeps turning while a batch computes', async () => {
    const frames = Array.from({ length: 64 }, (_, i) => frame(i));
    // A chain of 50 event-loop turns: on a free event loop it finishes long before a 64-frame
    // batch does; with the encoder on the main thread it cannot advance until the batch is over.
    let hops = 0;
    const chain = new Promise<string>((resolve) => {
      const hop = () => (++hops >= 50 ? resolve('event loop') : setImmediate(hop));
      setImmediate(hop);
    });
    const batch = embedder.embedFramesNow(frames).then((out) => {
      assert.equal(out.length, 64);
      return 'encoder';
    });
    assert.equal(
      await Promise.race([chain, batch]),
      'event loop',
      `only ${hops} turns while the encoder ran`,
    );
    await batch;
  });

  it('frames stay usable by the caller', async () => {
    const f = frame(3);
    const copy = f.slice();
    await embedder.embedFrame(f);
    assert.deepEqual(f, copy);
  });

  it('each lane is a child of this process, in its own process group', async () => {
    const pids = embedder.laneProcessIds;
    assert.equal(pids.length, 2);
    for (const pid of pids) {
      assert.ok(pid !== undefined && pid !== process.pid, `lane pid ${pid}`);
      const s = await stat(pid);
      assert.ok(s, `lane ${pid} is running`);
      assert.equal(s.ppid, process.pid);
      assert.equal(s.pgrp, pid, 'a process group of its own');
    }
    assert.notEqual(pids[0], pids[1]);
  });

  it('a lane that dies fails the batch it ran, then runs again in a fresh process', async () => {
    const f = frame(11);
    const [want] = await embedder.embedFramesNow([f]);
    const victim = embedder.laneProcessIds[0] as number;
    // Stopped, the lane cannot answer: the batch is surely under way when it is killed.
    process.kill(victim, 'SIGSTOP');
    const running = embedder.embedFramesNow([f, frame(12)]);
    await sleep(100);
    process.kill(victim, 'SIGKILL');
    await assert.rejects(running, (err: unknown) => {
      assert.ok(err instanceof ClipstreamError, String(err));
      assert.equal(err.code, 'CLIPSTREAM_INFERENCE_FAILED');
      assert.match(err.message, /SIGKILL/);
      return true;
    });
    assert.ok(await allGone([victim], 10_000), 'the killed lane is gone');
    // Both lanes serve again: the dead one with a new process.
    const again = await embedder.embedFramesNow(Array.from({ length: 32 }, () => f));
    for (const e of again) assert.ok(cosine(e, want as Float32Array) > 0.99999);
    const pids = embedder.laneProcessIds;
    assert.ok(!pids.includes(victim), `a fresh process: ${JSON.stringify(pids)}`);
    assert.ok(await stat(pids[0] as number), 'the new lane runs');
    const texts = await embedder.embedTexts(['a red circle']);
    assert.equal(texts.length, 1);
  });
});

describe('lane processes and the process that owns them', () => {
  function host(): { child: ReturnType<typeof spawn>; lines: Promise<unknown>[] } {
    const child = spawn(process.execPath, [HOST], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    const waiters: ((v: unknown) => void)[] = [];
    const lines: Promise<unknown>[] = [0, 1].map((i) => new Promise((r) => (waiters[i] = r)));
    let buf = '';
    let n = 0;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        waiters[n++]?.(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    });
    return { child, lines };
  }

  it('killing the owner outright ends its lanes', async () => {
    const { child, lines } = host();
    const { pids } = (await lines[0]) as { pids: number[] };
    assert.equal(pids.length, 2);
    for (const pid of pids) assert.ok(await stat(pid), `lane ${pid} runs`);
    child.kill('SIGKILL');
    assert.ok(await allGone(pids, 20_000), `lanes ${JSON.stringify(pids)} outlived their owner`);
  });

  it("Ctrl-C on the owner's process group reaches the owner only; it then embeds and exits", async () => {
    const { child, lines } = host();
    const { pids } = (await lines[0]) as { pids: number[] };
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    process.kill(-(child.pid as number), 'SIGINT');
    const dim = (await loadModelPack(BUNDLED_PACK)).manifest.embedDim;
    assert.deepEqual(await lines[1], { afterSigint: dim });
    assert.equal(await exited, 0);
    assert.ok(await allGone(pids, 20_000), 'lanes end once the owner closed them');
  });
});
