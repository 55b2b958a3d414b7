/**
 * The GPU path in one run (bench/gpu-check.sh builds and starts it): embed rate at batch 1, 16
 * and 64 on the CUDA provider, NVDEC decode + sample rate, end to end with four videos at once,
 * and the cosine of an fp16 image encoder's embeddings to fp32's when a pack carries one. Prints
 * one JSON object per line on stdout (`{"check": ...}`), the last one `{"check":"done"}`.
 *
 *   node dist/bench/gpu-check.js [--cpu] [--quick] [--model DIR] [--fp16 FILE]
 *
 * `--cpu --quick` is the dry run CI runs: the same steps on the CPU provider and CPU decode,
 * with the bundled model and a short small clip, in well under a minute.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { endToEnd } from '../src/bench/e2e.js';
import { median, perSecond, repeat } from '../src/bench/measure.js';
import { writeBenchPacks } from '../src/bench/models/pack.js';
import { renderTestVideo } from '../src/bench/video.js';
import { machineBudget } from '../src/budget.js';
import { Embedder, loadModelPack } from '../src/embed/index.js';
import { cudaUnavailableReason } from '../src/embed/ort-sessions.js';
import { formatError } from '../src/errors.js';
import { checkFfmpeg, decodeFrames, probe, resolveSource } from '../src/frames/index.js';
import { detectCuda } from '../src/frames/hwdecode.js';
import { silentLogger } from '../src/log.js';
import { DEFAULT_MATCH_OPTIONS } from '../src/match/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cpu: { type: 'boolean' },
      quick: { type: 'boolean' },
      model: { type: 'string' },
      fp16: { type: 'string' },
    },
  });
  const cpu = values.cpu === true;
  const quick = values.quick === true;
  const bins = await checkFfmpeg();
  const cuda = await detectCuda(bins.ffmpeg);
  const ortCuda = cudaUnavailableReason();
  say({
    check: 'machine',
    mode: cpu ? 'cpu' : 'cuda',
    quick,
    ortCuda: ortCuda ?? 'available',
    ffmpegHwaccels: cuda.hwaccels,
    nvidiaDevice: cuda.device,
  });
  if (!cpu && (ortCuda || !cuda.device)) {
    process.stderr.write(
      `gpu-check: no CUDA here (${ortCuda ?? 'no NVIDIA device'}); run with --cpu for a dry run\n`,
    );
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), 'clipstream-gpu-check-'));
  try {
    let packDir = values.model;
    if (!packDir) {
      if (quick) packDir = join(ROOT, 'models', 'shapes-v1');
      else {
        const packs = await writeBenchPacks(join(dir, 'model'), { seed: 1, int8: false });
        packDir = packs.fp32Dir;
      }
    }
    const pack = await loadModelPack(packDir);
    const budget = machineBudget(cpu ? 'cpu' : 'cuda');
    const embedder = await Embedder.open(
      pack,
      {
        runtime: { device: cpu ? 'cpu' : 'cuda', intraOpThreads: budget.intraOpThreads, cudaDeviceId: 0 },
        batch: { maxBatch: 64, maxWaitMs: 10, maxQueued: 256 },
      },
      silentLogger,
    );
    try {
      const { width, height } = embedder.input;
      const frame = new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 251);
      for (const batch of [1, 16, 64]) {
        const frames = Array.from({ length: batch }, () => frame);
        const ms = await repeat(() => embedder.embedFramesNow(frames), {
          warmup: 1,
          minRuns: quick ? 2 : 5,
          minMs: quick ? 0 : 2000,
          maxRuns: quick ? 2 : 200,
        });
        say({
          check: 'embed',
          provider: embedder.provider,
          batch,
          medianMs: median(ms),
          framesPerSec: perSecond(batch, median(ms)),
        });
      }

      const spec = quick
        ? { durationSec: 6, width: 320, height: 240, fps: 30, gopSec: 2 }
        : { durationSec: 60, width: 1920, height: 1080, fps: 30, gopSec: 2 };
      const video = await renderTestVideo(bins.ffmpeg, dir, spec);
      const src = await resolveSource(video.path, { allowPrivateNetworks: false });
      const info = await probe(src);
      for (const sampling of [
        { strategy: 'fps' as const, fps: 2 },
        { strategy: 'fps' as const, fps: 30 },
      ]) {
        let n = 0;
        let used = '';
        const t0 = performance.now();
        for await (const _f of decodeFrames(src, info, {
          width,
          height,
          resize: embedder.input.resize,
          sampling,
          hwaccel: cpu ? 'cpu' : 'cuda',
          onNotice: (line) => (used = line),
        })) {
          n++;
        }
        const ms = performance.now() - t0;
        say({
          check: 'decode',
          hwaccel: cpu ? 'cpu' : used === '' ? 'cuda' : 'cpu',
          notice: used || undefined,
          video: `${spec.width}x${spec.height} ${spec.fps} fps ${spec.durationSec} s`,
          sampleFps: sampling.fps,
          frames: n,
          ms,
          framesPerSec: perSecond(n, ms),
          sourceFramesPerSec: perSecond(spec.durationSec * spec.fps, ms),
        });
      }

      const e2e = await endToEnd(
        {
          embedder,
          path: video.path,
          sampling: { strategy: 'fps', fps: 2 },
          queries: ['a red circle', 'a blue square'],
          captions: ['a red circle', 'a blue square', 'nothing'],
          match: DEFAULT_MATCH_OPTIONS,
          framesInFlight: 64,
          decodeThreads: budget.decoderThreads,
        },
        4,
      );
      const r = e2e.result;
      say({
        check: 'e2e',
        videos: r.videos,
        frames: r.frames,
        wallMs: r.wallMs,
        framesPerSec: r.framesPerSec,
        meanBatch: r.meanBatch,
      });

      const fp16 = values.fp16 ?? [join(pack.dir, 'image.fp16.onnx')].find((p) => existsSync(p));
      if (!fp16) {
        say({
          check: 'fp16',
          skipped: 'no fp16 image encoder (export one with tools/model --fp16, pass --fp16 FILE)',
        });
      } else {
        const s16 = await ort.InferenceSession.create(fp16, {
          executionProviders: cpu ? ['cpu'] : [{ name: 'cuda', deviceId: 0 }],
        });
        const frames = Array.from({ length: 8 }, (_, k) => frame.map((v) => (v + 31 * k) % 256));
        const pixels = new Uint8Array(8 * frame.length);
        frames.forEach((f, k) => pixels.set(f, k * f.length));
        const name = pack.manifest.image.input;
        const out = await s16.run({ [name]: new ort.Tensor('uint8', pixels, [8, height, width, 3]) });
        const e16 = out[pack.manifest.image.outputs.embeds]?.data as Float32Array;
        const e32 = await embedder.embedFramesNow(frames);
        const D = pack.manifest.embedDim;
        const cos = e32.map((a, k) => a.reduce((s, v, j) => s + v * (e16[k * D + j] as number), 0));
        say({
          check: 'fp16',
          frames: 8,
          meanCosine: cos.reduce((a, b) => a + b, 0) / 8,
          minCosine: Math.min(...cos),
        });
        await s16.release();
      }
    } finally {
      await embedder.close();
    }
    say({ check: 'done', ok: true });
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`gpu-check: ${formatError(err)}\n`);
    process.exitCode = 1;
  },
);
