/** Renders a benchmark report as a terminal table (stdout) or as Markdown (bench/README.md). */
import { laneBatch } from './report.js';
import type { BenchReport } from './report.js';

interface Table {
  title: string;
  head: string[];
  rows: string[][];
}

export function fmt(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 10 ** digits) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(digits)).toString();
}

const roundsText = (x: { runs?: number; framesPerSecRuns?: number[] }): string =>
  x.framesPerSecRuns
    ? `${x.framesPerSecRuns.length}: ${x.framesPerSecRuns.map((v) => fmt(v)).join(', ')}`
    : '1';
const pctText = (x: number | null | undefined): string =>
  x === null || x === undefined ? 'n/a' : `${fmt(x, 3)}%`;
const sec = (ms: number): string => fmt(ms / 1000, 3);

function header(r: BenchReport): [string, string][] {
  const m = r.machine;
  const load = (l: number[] | undefined) => (l ? l.map((x) => x.toFixed(2)).join(' ') : 'n/a');
  const threads =
    r.runtime.intraOpThreads > 0 ? String(r.runtime.intraOpThreads) : 'runtime default (one per core)';
  const mo = r.model;
  const cost =
    mo.gflopPerFrame === null
      ? 'unknown (pass --gflop-per-frame)'
      : `${fmt(mo.gflopPerFrame, 4)} GFLOP/frame (${fmt(mo.gmacsPerFrame, 4)} G multiply-adds)`;
  const v = r.video;
  return [
    ['machine', `${m.cpu}, ${m.cores} logical CPUs, ${m.memoryGiB} GiB, ${m.platform}-${m.arch}`],
    ['load average', `${load(m.loadAtStart)} at start; ${load(m.loadAtEnd)} at end (1, 5, 15 min)`],
    ['software', `node ${m.node}, onnxruntime-node ${m.onnxruntime}, ffmpeg ${m.ffmpeg}`],
    [
      'runtime',
      `provider ${r.runtime.provider}, ${r.runtime.encoderLanes || 1} encoder lane(s) of ${threads} intra-op thread(s), batcher max ${r.runtime.batch.maxBatch} / ${r.runtime.batch.maxWaitMs} ms`,
    ],
    ['model', `${mo.description}${mo.params ? `, ${fmt(mo.params / 1e6, 4)} M parameters` : ''}`],
    ['model cost', cost],
    [
      'video',
      `${v.width}x${v.height} ${v.fps} fps, ${v.durationSec} s, ${v.codec}, keyframe every ${v.gopSec} s, ${fmt(v.bytes / 1e6, 3)} MB`,
    ],
    ['sampling', `${r.sampling} (end to end and the reference)`],
  ];
}

function tables(r: BenchReport): Table[] {
  const s = r.summary;
  // int8 rows: the same float work done in integer arithmetic, so their effective GFLOP/s are
  // shown, but not against the float32 peak, which is not their limit.
  const embedRows = (rows: BenchReport['embed'], label: string) =>
    rows.map((e) => [
      label,
      e.lanes > 1 ? `${e.batch} x ${e.lanes} lanes` : String(e.batch),
      String(e.runs),
      fmt(e.medianMs),
      fmt(e.framesPerSec),
      fmt(e.gflops),
      label === 'fp32' ? pctText(e.gflops === null ? null : (100 * e.gflops) / s.peakGflops) : '-',
    ]);
  const out: Table[] = [
    {
      title:
        'Against the expert script (ffmpeg fps,scale,crop -> rgb24 pipe; ONNX Runtime defaults, batches of 32; one stage after the other)',
      head: [
        'scenario',
        'model',
        'frames',
        'clipstream frames/s',
        'script frames/s',
        'speedup',
        'over fp32 script',
        'rounds (clipstream / script)',
      ],
      rows: (r.scenarios ?? []).flatMap((sc) =>
        sc.comparisons.map((c) => [
          `${sc.name} (${sc.sampling}${sc.videos > 1 ? `, ${sc.videos} videos` : ''})`,
          c.model,
          String(c.clipstream.frames),
          fmt(c.clipstream.framesPerSec),
          fmt(c.expert.framesPerSec),
          `${fmt(c.speedupOverExpert)}x`,
          c.speedupOverFp32Expert === undefined ? '-' : `${fmt(c.speedupOverFp32Expert)}x`,
          `${roundsText(c.clipstream)} / ${roundsText(c.expert)}`,
        ]),
      ),
    },
    {
      title: 'Sharing the cores: each change added in turn (end to end, fp32, one video unless said)',
      head: ['change', 'predicted', 'measured', 'cumulative', 'frames/s', 'rounds (frames/s)'],
      rows: (r.budget ?? []).map((b) => [
        b.change,
        `${fmt(b.predicted)}x`,
        `${fmt(b.measured)}x`,
        `${fmt(b.cumulative)}x`,
        fmt(b.framesPerSec),
        b.framesPerSecRuns.map((x) => fmt(x)).join(', '),
      ]),
    },
    {
      title: 'MatMul peak (float32, one MatMul node, same runtime settings)',
      head: ['size', 'when', 'runs', 'median ms', 'GFLOP/s', 'best GFLOP/s'],
      rows: r.matmul.map((m) => [
        `${m.size}^3`,
        m.when,
        String(m.runs),
        fmt(m.medianMs),
        fmt(m.gflops),
        fmt(m.bestGflops),
      ]),
    },
    {
      title: 'Decode + sample alone (src/frames, scale + crop to the model input in ffmpeg)',
      head: ['sampling', 'frames', 'runs', 'median s', 'frames/s'],
      rows: r.decode.map((d) => [
        d.sampling,
        String(d.frames),
        String(d.runs),
        sec(d.medianMs),
        fmt(d.framesPerSec),
      ]),
    },
    {
      title: 'Embed alone (Embedder, batches run directly)',
      head: ['model', 'batch', 'runs', 'median ms', 'frames/s', 'GFLOP/s', '% of MatMul peak'],
      rows: [...embedRows(r.embed, 'fp32'), ...embedRows(r.embedInt8 ?? [], 'int8')],
    },
    {
      title: "Match alone (src/match on the video's frame track)",
      head: ['frames', 'queries', 'captions', 'runs', 'median ms', 'frames/s'],
      rows: [
        [
          String(r.match.frames),
          String(r.match.queries),
          String(r.match.captions),
          String(r.match.runs),
          fmt(r.match.medianMs),
          fmt(r.match.framesPerSec),
        ],
      ],
    },
    {
      title: 'End to end (processVideo, one worker)',
      head: [
        'model',
        'videos at once',
        'frames',
        'wall s',
        'frames/s',
        '% of slowest stage alone',
        'mean batch',
        'encoder busy',
        'encoder frames/s',
        'event loop max stall ms',
        'rounds (frames/s)',
      ],
      rows: r.endToEnd.map((e) => [
        e.model,
        String(e.videos),
        String(e.frames),
        sec(e.wallMs),
        fmt(e.framesPerSec),
        e.model === 'fp32' ? pctText((100 * e.framesPerSec) / s.slowestFramesPerSec) : '-',
        fmt(e.meanBatch),
        pctText(e.encoderBusyPct),
        fmt(e.encoderFramesPerSec),
        fmt(e.eventLoopMaxStallMs),
        roundsText(e),
      ]),
    },
    {
      title: 'Reference pipeline (full-size decode, JavaScript resize + normalise, batch 1, no overlap)',
      head: [
        'decoded',
        'embedded',
        'wall s',
        'frames/s',
        'decode s',
        'JS preprocess s',
        'embed s',
        'rounds (frames/s)',
      ],
      rows: [
        [
          String(r.reference.decodedFrames),
          String(r.reference.frames),
          sec(r.reference.wallMs),
          fmt(r.reference.framesPerSec),
          sec(r.reference.breakdown.decodeMs),
          sec(r.reference.breakdown.preprocessMs),
          sec(r.reference.breakdown.embedMs),
          roundsText(r.reference),
        ],
      ],
    },
  ];
  return out;
}

export function summaryLines(r: BenchReport): string[] {
  const s = r.summary;
  const e = s.embedAtPipelineBatch;
  const embedCost =
    e.gflops === null
      ? ' (cost per frame unknown: no FLOP/s figures)'
      : `, ${fmt(e.gflops)} GFLOP/s = ${pctText(e.ofPeakPct)} of the MatMul peak (best batch: ${pctText(s.embedBestOfPeakPct)})`;
  const overlap =
    s.overlapRecoveredPct === null
      ? 'one stage dominates, so overlap has little to hide'
      : `overlap recovered ${pctText(s.overlapRecoveredPct)} of the gap between none and perfect`;
  const lines = s.speedupOverExpert.map(
    (x) =>
      `Against the expert script, ${x.scenario}: fp32 ${fmt(x.fp32)}x` +
      (x.int8 === null
        ? ''
        : `; int8 ${fmt(x.int8)}x the int8 script, ${fmt(x.int8OverFp32Expert)}x the fp32 script`) +
      '.',
  );
  lines.push(
    `MatMul peak: ${fmt(s.peakGflops)} GFLOP/s.`,
    `Embed at the pipeline's batch size (${e.batch}): ${fmt(e.framesPerSec)} frames/s${embedCost}.`,
    `Stages alone at ${r.sampling}: decode ${fmt(s.stages.decode)}, embed ${fmt(s.stages.embed)}, match ${fmt(s.stages.match)} frames/s; slowest: ${s.slowestStage}.`,
    `End to end, one video: ${fmt(s.endToEndFramesPerSec)} frames/s = ${pctText(s.endToEndOfSlowestPct)} of the slowest stage alone; with no overlap the stages would give ${fmt(s.serialFramesPerSec)} frames/s (${overlap}).`,
  );
  const e2e = r.endToEnd.find((x) => x.model === 'fp32' && x.videos === 1);
  if (e2e) {
    lines.push(
      `Inside the pipeline the encoder ran batches of ${fmt(e2e.meanBatch)} frames on average (up to ${laneBatch(r.runtime)} per lane on ${r.runtime.encoderLanes || 1} lane(s)), busy ${pctText(e2e.encoderBusyPct)} of the time at ${fmt(e2e.encoderFramesPerSec)} frames/s; the event loop stalled up to ${fmt(e2e.eventLoopMaxStallMs)} ms at a time.`,
    );
  }
  if (s.concurrentOfSlowestPct !== null) {
    lines.push(
      `Two videos at once (shared batcher): ${pctText(s.concurrentOfSlowestPct)} of the slowest stage alone.`,
    );
  }
  lines.push(
    `Naive reference pipeline (a strawman, kept as a second line): ${fmt(s.referenceFramesPerSec)} frames/s; the real pipeline is ${fmt(s.speedupOverReference)}x faster.`,
  );
  if (s.int8) {
    const q = s.int8;
    lines.push(
      `int8 (dynamic quantisation): embed ${fmt(q.embedFramesPerSec)} frames/s at batch ${e.batch} (${fmt(q.embedSpeedupOverFp32)}x fp32), mean cosine to the fp32 embeddings ${q.meanCosineToFp32.toFixed(5)}` +
        (q.endToEndFramesPerSec === null
          ? '.'
          : `; end to end ${fmt(q.endToEndFramesPerSec)} frames/s, ${fmt(q.speedupOverReference)}x the reference pipeline.`),
    );
  }
  return lines;
}

function pad(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

export function renderText(r: BenchReport): string {
  const out: string[] = [`clipstream bench (${r.mode}) ${r.startedAt}, ${fmt(r.durationSec)} s`, ''];
  const h = header(r);
  const kw = Math.max(...h.map(([k]) => k.length)) + 1;
  out.push(...h.map(([k, v]) => `${`${k}:`.padEnd(kw)}  ${v}`));
  for (const t of tables(r)) {
    if (t.rows.length === 0) continue;
    out.push('', t.title, ...pad([t.head, ...t.rows]).map((l) => `  ${l}`));
  }
  out.push('', 'Summary', ...summaryLines(r).map((l) => `  ${l}`));
  if (r.notes.length > 0) out.push('', 'Notes', ...r.notes.map((n) => `  - ${n}`));
  out.push(
    '',
    `Peak memory ${fmt(r.peakRssMiB)} MiB. Steps (s): ${r.steps.map((x) => `${x.step} ${fmt(x.sec, 2)}`).join('; ')}`,
  );
  return `${out.join('\n')}\n`;
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderMarkdown(r: BenchReport): string {
  const out: string[] = [`Run of ${r.startedAt} (${r.mode} mode, ${fmt(r.durationSec)} s).`, ''];
  out.push('| | |', '| --- | --- |', ...header(r).map(([k, v]) => `| ${k} | ${mdCell(v)} |`));
  for (const t of tables(r)) {
    out.push('', `**${t.title}**`, '');
    out.push(`| ${t.head.map(mdCell).join(' | ')} |`, `| ${t.head.map(() => '---').join(' | ')} |`);
    for (const row of t.rows) out.push(`| ${row.map(mdCell).join(' | ')} |`);
  }
  out.push('', '**Summary**', '', ...summaryLines(r).map((l) => `- ${l}`));
  if (r.notes.length > 0) out.push('', '**Notes**', '', ...r.notes.map((n) => `- ${n}`));
  out.push(
    '',
    `**Steps** (wall time; 1-minute load average as each began; peak memory ${fmt(r.peakRssMiB)} MiB)`,
    '',
  );
  out.push('| step | s | load |', '| --- | --- | --- |');
  for (const x of r.steps)
    out.push(`| ${mdCell(x.step)} | ${fmt(x.sec)} | ${x.load1 === undefined ? '' : x.load1.toFixed(2)} |`);
  return `${out.join('\n')}\n`;
}
