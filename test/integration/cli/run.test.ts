/**
 * `clipstream run` and `clipstream model verify` as users run them: a real child process, real
 * ffmpeg, real ONNX Runtime. Structure and error contract here (with the tiny test pack); the
 * meaning of results with the bundled model in bundled-model.test.ts.
 */
import assert from 'node:assert/strict';
import { copyFile, cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderVideo } from '../../../eval/shapes/render.js';
import { randomVideoSpec } from '../../../eval/shapes/world.js';
import { ResultDocumentSchema } from '../../../src/pipeline/result.js';
import type { ResultDocument } from '../../../src/pipeline/index.js';
import { TINY_PACK, clipstream, errorLine } from '../../helpers/cli.js';
import { makeAudioOnly, makeNotMedia, makeTempDir, removeTempDir } from '../../helpers/media.js';

describe('clipstream run', () => {
  let dir: string;
  let video: string;
  before(async () => {
    dir = await makeTempDir('clipstream-cli-');
    video = join(dir, 'clip.mp4');
    await renderVideo(
      randomVideoSpec(42, { width: 320, height: 180, fps: 10, durationSec: 6, sceneCount: 2 }),
      video,
    );
    await writeFile(join(dir, 'queries.txt'), 'a green square\n\n  spaced  query \n');
    await writeFile(join(dir, 'captions.txt'), 'nothing\na red circle\na blue square\n');
  });
  after(() => removeTempDir(dir));

  it('prints one contract-valid result document whose frames and timestamps follow the sampling', async () => {
    const args = [
      'run',
      video,
      '--model',
      TINY_PACK,
      '--fps',
      '2',
      '--query',
      'a red circle',
      '--query',
      'ünïcødé & <html>',
      '--queries-file',
      join(dir, 'queries.txt'),
      '--captions-file',
      join(dir, 'captions.txt'),
    ];
    const r = await clipstream(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const doc = JSON.parse(r.stdout) as ResultDocument;
    assert.equal(
      ResultDocumentSchema.safeParse(doc).success,
      true,
      JSON.stringify(ResultDocumentSchema.safeParse(doc).error),
    );
    assert.equal(doc.sampling.strategy, 'fps');
    assert.equal(doc.sampling.fps, 2);
    assert.equal(doc.sampling.frames, 12);
    assert.equal(doc.source.width, 320);
    assert.equal(doc.source.durationSec, 6);
    assert.deepEqual(
      doc.queries.map((q) => [q.id, q.text]),
      [
        ['q1', 'a red circle'],
        ['q2', 'ünïcødé & <html>'],
        ['q3', 'a green square'],
        ['q4', '  spaced  query '],
      ],
    );
    for (const q of doc.queries) if (!q.matched) assert.deepEqual(q.moments, []);
    // captions tile the sampled timeline: first frame to the end, in order, without overlap
    assert.ok(doc.captions.length >= 1);
    assert.equal(doc.captions[0]!.startSec, 0);
    assert.equal(doc.captions.at(-1)!.endSec, 6);
    for (let i = 1; i < doc.captions.length; i++)
      assert.equal(doc.captions[i]!.startSec, doc.captions[i - 1]!.endSec);
    assert.ok(doc.timings.totalMs >= doc.timings.matchMs);

    const again = JSON.parse((await clipstream(args)).stdout) as ResultDocument;
    assert.equal(again.resultId, doc.resultId, 'resultId is deterministic');
  });

  it('keyframes and scene sampling', async () => {
    const k = await clipstream(['run', video, '--model', TINY_PACK, '--sampling', 'keyframes']);
    assert.equal(k.code, 0, k.stderr);
    const kd = JSON.parse(k.stdout) as ResultDocument;
    assert.equal(kd.sampling.strategy, 'keyframes');
    assert.ok(kd.sampling.frames >= 1);
    const s = await clipstream(['run', video, '--model', TINY_PACK, '--sampling', 'scene']);
    assert.equal(s.code, 0, s.stderr);
    const sd = JSON.parse(s.stdout) as ResultDocument;
    assert.equal(sd.sampling.strategy, 'scene');
    assert.ok(sd.sampling.frames >= 2, 'the first frame and the cut between the two scenes');
  });

  it('--format vtt prints WebVTT, --format table a summary, --out writes a file', async () => {
    const v = await clipstream([
      'run',
      video,
      '--model',
      TINY_PACK,
      '--captions-file',
      join(dir, 'captions.txt'),
      '--format',
      'vtt',
    ]);
    assert.equal(v.code, 0, v.stderr);
    assert.ok(v.stdout.startsWith('WEBVTT\n'));
    const timings = v.stdout.split('\n').filter((l) => l.includes('-->'));
    assert.ok(timings.length >= 1);
    for (const l of timings) assert.match(l, /^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$/);
    const t = await clipstream([
      'run',
      video,
      '--model',
      TINY_PACK,
      '--query',
      'a red circle',
      '--format',
      'table',
    ]);
    assert.equal(t.code, 0, t.stderr);
    assert.ok(t.stdout.includes('a red circle'));
    const out = join(dir, 'out.json');
    const o = await clipstream(['run', video, '--model', TINY_PACK, '--out', out]);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(o.stdout, '');
    assert.equal(JSON.parse(await readFile(out, 'utf8')).schema, 'clipstream.result.v1');
  });

  it('bad input: one stderr line with a code, non-zero exit, nothing on stdout', async () => {
    const notMedia = await makeNotMedia(join(dir, 'not-media.mp4'));
    const audio = await makeAudioOnly(join(dir, 'audio.m4a'));
    const cases: [string[], RegExp][] = [
      [['run', join(dir, 'missing.mp4'), '--model', TINY_PACK], /CLIPSTREAM_SOURCE_NOT_FOUND/],
      [['run', notMedia, '--model', TINY_PACK], /CLIPSTREAM_PROBE_FAILED/],
      [['run', audio, '--model', TINY_PACK], /CLIPSTREAM_NO_VIDEO_STREAM/],
      [['run', 'ftp://example.com/a.mp4', '--model', TINY_PACK], /CLIPSTREAM_BAD_URI/],
      [['run', 'http://127.0.0.1:9/a.mp4', '--model', TINY_PACK], /CLIPSTREAM_URI_REFUSED/],
      [['run', video, '--model', TINY_PACK, '--format', 'xml'], /CLIPSTREAM_BAD_ARGUMENT: --format/],
      [['run', video, '--model', TINY_PACK, '--fps', '0'], /CLIPSTREAM_BAD_ARGUMENT: --fps/],
      [['run', video, '--model', TINY_PACK, '--fps', '2', '--sampling', 'scene'], /CLIPSTREAM_BAD_ARGUMENT/],
      [['run', video, '--model', TINY_PACK, '--sampling', 'every'], /CLIPSTREAM_BAD_ARGUMENT: --sampling/],
      [['run', video, '--model', TINY_PACK, '--query', '   '], /CLIPSTREAM_BAD_TEXT/],
      [['run', video, '--model', TINY_PACK, '--frobnicate'], /CLIPSTREAM_BAD_ARGUMENT/],
      [
        ['run', video, '--model', TINY_PACK, '--queries-file', join(dir, 'nope.txt')],
        /CLIPSTREAM_BAD_ARGUMENT/,
      ],
      [['run', video, '--model', join(dir, 'no-pack')], /CLIPSTREAM_MODEL_INVALID/],
      [['run'], /CLIPSTREAM_BAD_ARGUMENT/],
    ];
    for (const [args, re] of cases) {
      const r = await clipstream(args);
      const line = errorLine(r);
      assert.match(line, /^clipstream: CLIPSTREAM_[A-Z_]+: /, args.join(' '));
      assert.match(line, re, `${args.join(' ')} -> ${line}`);
    }
    const badDevice = await clipstream(['run', video, '--model', TINY_PACK], { CLIPSTREAM_DEVICE: 'tpu' });
    assert.match(errorLine(badDevice), /CLIPSTREAM_BAD_CONFIG: CLIPSTREAM_DEVICE/);
    const cuda = await clipstream(['run', video, '--model', TINY_PACK], { CLIPSTREAM_DEVICE: 'cuda' });
    assert.match(errorLine(cuda), /CLIPSTREAM_DEVICE_UNAVAILABLE/);
  });
});

describe('clipstream model verify', () => {
  let dir: string;
  before(async () => {
    dir = await makeTempDir('clipstream-verify-');
  });
  after(() => removeTempDir(dir));

  it('passes on a good pack and prints a summary', async () => {
    const r = await clipstream(['model', 'verify', TINY_PACK]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok tiny-openclip/);
    assert.match(r.stdout, /dummy batch/);
  });

  it('fails with one clear line on a corrupted, incomplete or invalid pack', async () => {
    const corrupt = join(dir, 'corrupt');
    await cp(TINY_PACK, corrupt, { recursive: true });
    const onnx = await readFile(join(corrupt, 'image.onnx'));
    const at = onnx.length >> 1;
    onnx.writeUInt8(onnx.readUInt8(at) ^ 0xff, at);
    await writeFile(join(corrupt, 'image.onnx'), onnx);
    assert.match(
      errorLine(await clipstream(['model', 'verify', corrupt])),
      /CLIPSTREAM_MODEL_CHECKSUM: .*image\.onnx is corrupted/,
    );

    const missing = join(dir, 'missing');
    await cp(TINY_PACK, missing, { recursive: true });
    await writeFile(join(missing, 'text.onnx'), '');
    await copyFile(join(TINY_PACK, 'model.json'), join(missing, 'model.json'));
    assert.match(errorLine(await clipstream(['model', 'verify', missing])), /CLIPSTREAM_MODEL_CHECKSUM/);

    const invalid = join(dir, 'invalid');
    await cp(TINY_PACK, invalid, { recursive: true });
    const m = JSON.parse(await readFile(join(invalid, 'model.json'), 'utf8'));
    m.image.resize = 'zoom';
    await writeFile(join(invalid, 'model.json'), JSON.stringify(m));
    assert.match(
      errorLine(await clipstream(['model', 'verify', invalid])),
      /CLIPSTREAM_MODEL_INVALID: .*image\.resize/,
    );

    assert.match(
      errorLine(await clipstream(['model', 'verify', join(dir, 'nothing-here')])),
      /CLIPSTREAM_MODEL_INVALID/,
    );
    assert.match(errorLine(await clipstream(['model', 'check', TINY_PACK])), /CLIPSTREAM_BAD_ARGUMENT/);
  });

  it('a malformed matching.calibration fails model verify and run at start-up, naming the field', async () => {
    const badCal = join(dir, 'bad-calibration');
    await cp(TINY_PACK, badCal, { recursive: true });
    const m = JSON.parse(await readFile(join(badCal, 'model.json'), 'utf8'));
    m.matching = { calibration: { sentence: { scale: 10, bias: -2 }, word: { scale: 0, bias: 0 } } };
    await writeFile(join(badCal, 'model.json'), JSON.stringify(m));
    assert.match(
      errorLine(await clipstream(['model', 'verify', badCal])),
      /CLIPSTREAM_MODEL_INVALID: .*matching\.calibration\.word\.scale/,
    );
    assert.match(
      errorLine(await clipstream(['run', join(dir, 'never-read.mp4'), '--model', badCal])),
      /CLIPSTREAM_MODEL_INVALID: .*matching\.calibration/,
    );
  });
});
