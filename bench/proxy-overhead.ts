/**
 * What the policy proxy costs: probe + decode of one http source with ffmpeg reading the URL
 * itself (the simple alternative, no policy beyond the first check) against the same through a
 * policy-proxy session, in alternating rounds, same video, same graph. Serves the video from a
 * loopback server (allowed with allowPrivateNetworks for the direct side, with an allowed
 * network for the proxied side).
 *
 *   node dist/bench/proxy-overhead.js [--rounds 5] [--seconds 60] [--fps 1] [--hls]
 *
 * Not part of the test suite (speed is never asserted in tests).
 */
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { PolicyProxy, decodeFrames, openSource, probe, resolveSource } from '../src/frames/index.js';
import type { ResolvedSource } from '../src/frames/index.js';
import { silentLogger } from '../src/log.js';

const run = promisify(execFile);

async function decodeAll(src: ResolvedSource, fps: number): Promise<number> {
  const info = await probe(src);
  let frames = 0;
  for await (const _ of decodeFrames(src, info, {
    width: 224,
    height: 224,
    resize: 'crop',
    sampling: { strategy: 'fps', fps },
  })) {
    frames++;
  }
  return frames;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '60' },
      fps: { type: 'string', default: '1' },
      hls: { type: 'boolean', default: false },
    },
  });
  const rounds = Number(values.rounds);
  const fps = Number(values.fps);
  const dir = await mkdtemp(join(tmpdir(), 'clipstream-proxy-bench-'));
  try {
    const clip = join(dir, 'clip.mp4');
    await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        `testsrc2=size=1280x720:rate=30:duration=${values.seconds}`,
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-g',
        '60',
        '-pix_fmt',
        'yuv420p',
        '-movflags',
        '+faststart',
        clip,
      ],
      { timeout: 600_000 },
    );
    if (values.hls) {
      await run('ffmpeg', [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-i',
        clip,
        '-c',
        'copy',
        '-f',
        'hls',
        '-hls_time',
        '2',
        '-hls_list_size',
        '0',
        '-hls_segment_filename',
        join(dir, 'seg%d.ts'),
        join(dir, 'v.m3u8'),
      ]);
    }
    const name = values.hls ? 'v.m3u8' : 'clip.mp4';
    const server = createServer((req, res) => {
      const file = join(dir, (req.url ?? '/').slice(1));
      stat(file).then(
        (st) => {
          res.writeHead(200, { 'content-length': st.size });
          createReadStream(file).pipe(res);
        },
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}`;
    const proxy = new PolicyProxy(silentLogger);
    const direct: number[] = [];
    const proxied: number[] = [];
    let frames = 0;
    let bytes = 0;
    for (let i = 0; i < rounds; i++) {
      for (const side of i % 2 === 0 ? ['direct', 'proxied'] : ['proxied', 'direct']) {
        const t0 = performance.now();
        if (side === 'direct') {
          frames = await decodeAll(await resolveSource(url, { allowPrivateNetworks: true }), fps);
          direct.push(performance.now() - t0);
        } else {
          const opened = await openSource(
            url,
            { allowPrivateNetworks: false, allowedNetworks: ['127.0.0.1/32'] },
            {
              videoId: `bench-${i}`,
              log: silentLogger,
              proxy,
            },
          );
          try {
            frames = await decodeAll(opened.source, fps);
            const err = opened.policyError();
            if (err) throw err;
          } finally {
            await opened.close();
          }
          proxied.push(performance.now() - t0);
        }
      }
    }
    await proxy.close();
    server.close();
    bytes = (await readFile(clip)).length;
    const d = median(direct);
    const p = median(proxied);
    process.stdout.write(
      `${JSON.stringify(
        {
          source: name,
          seconds: Number(values.seconds),
          fileBytes: bytes,
          frames,
          rounds,
          directMs: direct.map(Math.round),
          proxiedMs: proxied.map(Math.round),
          medianDirectMs: Math.round(d),
          medianProxiedMs: Math.round(p),
          proxiedOverDirect: Math.round((p / d) * 1000) / 1000,
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
