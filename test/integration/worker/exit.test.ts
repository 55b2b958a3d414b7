// A worker that has shut down exits, whatever state the broker is in (regression: with its broker
// gone, `clipstream worker` logged `worker exited` on SIGTERM and kept running on kafkajs' consumer
// restart timers). Real worker processes, a real broker of the test's own that is stopped mid-test.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startExtraBroker, stopExtraBroker } from '../../helpers/kafka.js';
import type { ExtraBroker } from '../../helpers/kafka.js';
import {
  freePort,
  makeClip,
  names,
  removeDir,
  spawnWorker,
  tempDir,
  testConfig,
  waitForLog,
} from './helpers.js';
import type { ChildWorker } from './helpers.js';

const GRACE_MS = 2000;
let media: string;
let broker: ExtraBroker | undefined;
const children: ChildWorker[] = [];

before(async () => {
  media = await tempDir('cs-exit-');
  await makeClip(join(media, 'a.mp4'), { seconds: 1 });
});

after(async () => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  if (broker) await stopExtraBroker(broker);
  await removeDir(media);
});

function spawn(brokerList: string[]): ChildWorker {
  const config = testConfig(names('exit'), { brokers: brokerList.join(','), mediaRoot: media });
  const c = spawnWorker(config, {
    CLIPSTREAM_SHUTDOWN_GRACE_MS: String(GRACE_MS),
    CLIPSTREAM_DEBUG_HANDLES: '1',
  });
  children.push(c);
  return c;
}

/** The worker's own log lines (kafkajs' retry chatter left out), for failure messages. */
function ownLog(w: ChildWorker): string {
  return w
    .stderr()
    .split('\n')
    .filter((l) => !l.includes('"msg":"kafkajs:'))
    .join('\n')
    .slice(-3000);
}

/** What the CLI's last line of defence found still open (CLIPSTREAM_DEBUG_HANDLES), for the record. */
function leftOpen(w: ChildWorker): string {
  const line = w
    .stderr()
    .split('\n')
    .find((l) => l.startsWith('clipstream: still open after exit'));
  return line ?? 'nothing left open';
}

/** SIGTERM, then the exit and how long it took; SIGKILL (and a failed test) past grace + 5 s. */
async function terminate(
  w: ChildWorker,
): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const t0 = Date.now();
  w.child.kill('SIGTERM');
  const limit = GRACE_MS + 5000;
  const killer = setTimeout(() => w.child.kill('SIGKILL'), limit + 2000);
  const exit = await w.exited;
  clearTimeout(killer);
  return { ...exit, ms: Date.now() - t0 };
}

describe('worker exit after shutdown', { timeout: 300_000 }, () => {
  it('SIGTERM with the broker stopped: exits within grace + 5 s', async (t) => {
    broker = await startExtraBroker();
    const w = spawn(broker.brokers);
    await waitForLog(w, 'worker started');
    await stopExtraBroker(broker);
    broker = undefined;
    // Let kafkajs notice: its fetches fail and its consumer restart timers are set.
    await new Promise((r) => setTimeout(r, 4000));
    const exit = await terminate(w);
    t.diagnostic(`exit code ${exit.code} after ${exit.ms} ms; ${leftOpen(w)}`);
    assert.equal(exit.signal, null, `killed after ${exit.ms} ms:\n${ownLog(w)}`);
    assert.ok(exit.ms <= GRACE_MS + 5000, `took ${exit.ms} ms`);
    assert.equal(exit.code, 0, ownLog(w));
    await waitForLog(w, 'worker exited', 100);
  });

  it('SIGTERM during start-up, before the broker ever answered: exits within grace + 5 s', async (t) => {
    const closed = await freePort(); // nothing listens there
    const w = spawn([`127.0.0.1:${closed}`]);
    await waitForLog(w, 'model loaded');
    await new Promise((r) => setTimeout(r, 1500)); // connecting, retrying
    const exit = await terminate(w);
    t.diagnostic(`exit code ${exit.code} after ${exit.ms} ms; ${leftOpen(w)}`);
    assert.equal(exit.signal, null, `killed after ${exit.ms} ms:\n${ownLog(w)}`);
    assert.ok(exit.ms <= GRACE_MS + 5000, `took ${exit.ms} ms`);
    assert.equal(exit.code, 0, ownLog(w));
  });
});
