/**
 * Renders one shapes-world video and its ground truth.
 *
 *   node dist/eval/shapes/render-cli.js --seed N --out FILE.mp4 [--truth FILE.json]
 *        [--width W --height H] [--fps F] [--scenes N] [--duration SEC] [--no-antialias]
 *        [--preset X264_PRESET] [--crf N]
 *   node dist/eval/shapes/render-cli.js --demo --out FILE.mp4 [--truth FILE.json]
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatError } from '../../src/errors.js';
import { demoVideoSpec } from './demo.js';
import { renderVideo } from './render.js';
import { type RandomSpecOptions, randomVideoSpec } from './world.js';
import { truthDocument } from './truth.js';

const USAGE = `usage: render-cli (--seed N | --demo) --out FILE.mp4 [--truth FILE.json]
       [--width W --height H] [--fps F] [--scenes N] [--duration SEC] [--no-antialias]
       [--preset X264_PRESET] [--crf N]`;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      demo: { type: 'boolean', default: false },
      out: { type: 'string' },
      truth: { type: 'string' },
      width: { type: 'string' },
      height: { type: 'string' },
      fps: { type: 'string' },
      scenes: { type: 'string' },
      duration: { type: 'string' },
      'no-antialias': { type: 'boolean', default: false },
      preset: { type: 'string' },
      crf: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.out === undefined || (values.seed === undefined && !values.demo)) {
    console.error(USAGE);
    return 2;
  }
  let spec;
  if (values.demo) {
    spec = demoVideoSpec();
  } else {
    const opts: RandomSpecOptions = { antialias: !values['no-antialias'] };
    const set = <K extends keyof RandomSpecOptions>(k: K, v: RandomSpecOptions[K] | undefined): void => {
      if (v !== undefined) opts[k] = v;
    };
    set('width', int('width', values.width));
    set('height', int('height', values.height));
    set('fps', int('fps', values.fps));
    set('sceneCount', int('scenes', values.scenes));
    set('durationSec', int('duration', values.duration));
    spec = randomVideoSpec(int('seed', values.seed) ?? 0, opts);
  }
  const t0 = performance.now();
  const crf = int('crf', values.crf);
  const result = await renderVideo(spec, values.out, {
    ...(values.preset !== undefined ? { preset: values.preset } : {}),
    ...(crf !== undefined ? { crf } : {}),
  });
  const ms = performance.now() - t0;
  if (values.truth !== undefined) {
    await writeFile(values.truth, JSON.stringify(truthDocument(spec), null, 2) + '\n');
  }
  console.error(
    `rendered ${result.frames} frames (${result.durationSec.toFixed(2)} s, ${spec.width}x${spec.height} @ ${spec.fps}) in ${(ms / 1000).toFixed(2)} s`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`render-cli: ${formatError(err)}`);
    process.exit(1);
  },
);
