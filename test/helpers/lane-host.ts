/**
 * A process holding an Embedder with two lanes (bundled model), for the lane-process tests:
 * prints `{"pids": [...]}` once the lanes are up, then waits. On SIGINT it embeds one frame,
 * prints `{"afterSigint": <embedding length>}`, closes the Embedder and exits by itself.
 */
import { Embedder, loadModelPack } from '../../src/embed/index.js';
import { silentLogger } from '../../src/log.js';
import { BUNDLED_PACK } from './cli.js';

const embedder = await Embedder.open(
  await loadModelPack(BUNDLED_PACK),
  {
    runtime: { device: 'cpu', intraOpThreads: 1, lanes: 2, cudaDeviceId: 0 },
    batch: { maxBatch: 16, maxWaitMs: 1, maxQueued: 64 },
  },
  silentLogger,
);
const keepAlive = setInterval(() => undefined, 60_000);
process.once('SIGINT', () => {
  void (async () => {
    const m = embedder.pack.manifest;
    const e = await embedder.embedFrame(new Uint8Array(m.image.height * m.image.width * 3).fill(90));
    process.stdout.write(`${JSON.stringify({ afterSigint: e.length })}\n`);
    clearInterval(keepAlive);
    await embedder.close();
  })();
});
process.stdout.write(`${JSON.stringify({ pids: embedder.laneProcessIds })}\n`);
