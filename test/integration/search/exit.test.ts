// `clipstream index` and `clipstream serve` exit on SIGTERM whatever the broker does, as the
// worker does (test/integration/worker/exit.test.ts): with the broker stopped under them, and
// during start-up against a port where no broker ever answered. Real processes, a real broker of
// the test's own, the embedded store in a temporary folder.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnCli } from '../../helpers/cli.js';
import type { Child } from '../../helpers/cli.js';
import { startExtraBroker, stopExtraBroker, uniqueGroup } from '../../helpers/kafka.js';
import type { ExtraBroker } from '../../helpers/kafka.js';
import { makeTempDir, removeTempDir, sleep } from '../../helpers/media.js';
import { freePort } from '../worker/helpers.js';

/** Longest a shut-down process may take to exit: the CLI's bounded steps, with room for a slow machine. */
const EXIT_LIMIT_MS = 20_000;

let dir: string;
let broker: ExtraBroker | undefined;
const children: Child[] = [];

before(async () => {
  dir = await makeTempDir('clipstream-search-exit-');
});
after(async () => {
  for (const c of children)
    if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  if (broker) await stopExtraBroker(broker);
  await removeTempDir(dir);
});

function start(args: string[], brokers: string): Child {
  const c = spawnCli(args, {
    CLIPSTREAM_BROKERS: brokers,
    CLIPSTREAM_GROUP: uniqueGroup('search-exit'),
    CLIPSTREAM_HTTP_PORT: '0',
    CLIPSTREAM_LOG_LEVEL: 'info',
  });
  children.push(c);
  return c;
}

async function waitFor(c: Child, msg: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const seen = c
      .stderr()
      .split('\n')
      .some((l) => {
        try {
          return (JSON.parse(l) as { msg?: string }).msg === msg;
        } catch {
          return false;
        }
      });
    if (seen) return;
    if (c.child.exitCode !== null) throw new Error(`exited before '${msg}': ${c.stderr().slice(-2000)}`);
    if (Date.now() > end) throw new Error(`no '${msg}' within ${ms} ms: ${c.stderr().slice(-2000)}`);
    await sleep(100);
  }
}

/** SIGTERM; the exit code, the signal if it had to be killed, and how long it took. */
async function terminate(c: Child): Promise<{ code: number | null; signal: string | null; ms: number }> {
  const t0 = Date.now();
  c.child.kill('SIGTERM');
  const killer = setTimeout(() => c.child.kill('SIGKILL'), EXIT_LIMIT_MS);
  const exit = await c.exited;
  clearTimeout(killer);
  return { ...exit, ms: Date.now() - t0 };
}

const ownLog = (c: Child) =>
  c
    .stderr()
    .split('\n')
    .filter((l) => !l.includes('kafkajs'))
    .join('\n')
    .slice(-3000);

describe('index and serve exit after shutdown', { timeout: 300_000 }, () => {
  for (const command of ['index', 'serve'] as const) {
    it(`${command}: SIGTERM with the broker stopped under it exits 0`, async (t) => {
      broker = await startExtraBroker();
      const args =
        command === 'index'
          ? ['index', '--store', join(dir, `${command}-a`)]
          : ['serve', '--store', join(dir, `${command}-a`), '--port', String(await freePort())];
      const c = start(args, broker.brokers.join(','));
      await waitFor(c, 'indexer running', 90_000);
      await stopExtraBroker(broker);
      broker = undefined;
      await sleep(4000); // kafkajs notices: fetches fail, reconnect timers are set
      const exit = await terminate(c);
      t.diagnostic(`${command}: exit code ${exit.code} after ${exit.ms} ms`);
      assert.equal(exit.signal, null, `killed after ${exit.ms} ms:\n${ownLog(c)}`);
      assert.equal(exit.code, 0, ownLog(c));
    });

    it(`${command}: SIGTERM during start-up, no broker ever answered, exits 0`, async (t) => {
      const closed = await freePort();
      const args =
        command === 'index'
          ? ['index', '--store', join(dir, `${command}-b`)]
          : ['serve', '--store', join(dir, `${command}-b`), '--port', String(await freePort())];
      const c = start(args, `127.0.0.1:${closed}`);
      await sleep(3000); // store open, connecting, retrying
      const exit = await terminate(c);
      t.diagnostic(`${command}: exit code ${exit.code} after ${exit.ms} ms`);
      assert.equal(exit.signal, null, `killed after ${exit.ms} ms:\n${ownLog(c)}`);
      assert.equal(exit.code, 0, ownLog(c));
    });
  }
});
