/**
 * The option table of every command: what node's parseArgs reads (`type`, `multiple`, `short`)
 * plus how the usage shows it (`arg`, `or`, `help`). Every usage text, the per-command `--help`
 * and the overview of `clipstream --help`, is generated from these tables, so a flag that is
 * parsed is a flag that is shown. Kept free of imports: `clipstream --help` loads nothing else.
 */

export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** placeholder of the value, e.g. `DIR` */
  readonly arg?: string;
  /** another flag shown as the alternative of this one: `[--fps N | --sampling S]` */
  readonly or?: string;
  /** one line for the flag list under the usage (shown when any flag of the command has one) */
  readonly help?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** positional arguments as shown, e.g. `<uri>` */
  readonly args?: string;
  readonly flags: Readonly<Record<string, Flag>>;
  /** what the command does, shown under the synopsis */
  readonly summary: string;
  /** text after the flag list */
  readonly notes?: string;
}

const help = { type: 'boolean', short: 'h' } as const;

export const RUN = {
  name: 'run',
  args: '<video-path-or-url>',
  flags: {
    query: { type: 'string', multiple: true, arg: 'TEXT' },
    'queries-file': { type: 'string', arg: 'F' },
    'captions-file': { type: 'string', arg: 'F' },
    model: { type: 'string', arg: 'DIR' },
    fps: { type: 'string', arg: 'N', or: 'sampling' },
    sampling: { type: 'string', arg: 'fps|keyframes|scene' },
    format: { type: 'string', arg: 'json|vtt|table' },
    out: { type: 'string', arg: 'FILE' },
    'window-sec': { type: 'string', arg: 'N' },
    'rtsp-transport': { type: 'string', arg: 'tcp|udp' },
    help,
  },
  summary:
    'Runs the whole pipeline on one video without Kafka and prints one result document.\n' +
    'A live source (rtsp://, rtsps://, http(s)://....m3u8) prints one window document per line\n' +
    '(NDJSON) until it ends or SIGINT, the final document last (see docs/live.md).',
} as const satisfies CommandSpec;

export const WORKER = {
  name: 'worker',
  flags: {
    brokers: { type: 'string', arg: 'host:port,...' },
    'input-topic': { type: 'string', arg: 'T' },
    'output-topic': { type: 'string', arg: 'T' },
    'dlq-topic': { type: 'string', arg: 'T' },
    'queries-topic': { type: 'string', arg: 'T' },
    group: { type: 'string', arg: 'G' },
    model: { type: 'string', arg: 'DIR' },
    'streams-topic': { type: 'string', arg: 'T' },
    'alerts-topic': { type: 'string', arg: 'T' },
    help,
  },
  summary:
    'Consumes video events in a consumer group and publishes one result document per video; runs\n' +
    'the live streams of its partitions of the streams topic (docs/live.md).\n' +
    'Every setting also has an environment variable (docs/worker.md); flags win.',
} as const satisfies CommandSpec;

export const PUBLISH = {
  name: 'publish',
  args: '<uri>',
  flags: {
    id: { type: 'string', arg: 'VIDEO_ID' },
    query: { type: 'string', multiple: true, arg: 'TEXT' },
    caption: { type: 'string', multiple: true, arg: 'TEXT' },
    fps: { type: 'string', arg: 'N', or: 'sampling' },
    sampling: { type: 'string', arg: 'fps|keyframes|scene' },
    brokers: { type: 'string', arg: '...' },
    topic: { type: 'string', arg: 'T' },
    help,
  },
  summary:
    'Publishes one clipstream.video.v1 event (keyed by its video id) and prints the video id.\n' +
    'The default id is a hash of the URI. An absolute path is sent as a file:// URI.',
} as const satisfies CommandSpec;

export const RESULTS = {
  name: 'results',
  flags: {
    follow: { type: 'boolean', short: 'f' },
    video: { type: 'string', arg: 'VIDEO_ID' },
    brokers: { type: 'string', arg: '...' },
    topic: { type: 'string', arg: 'T' },
    help,
  },
  summary:
    'Prints the result documents on the results topic as JSON lines, from the beginning. Without\n' +
    '--follow it stops at the end the topic had when it started; with --follow it waits for more\n' +
    "until interrupted. --video keeps only that video's results. Nothing is committed.",
} as const satisfies CommandSpec;

export const BENCH = {
  name: 'bench',
  flags: {
    json: { type: 'boolean', help: 'print one JSON document (clipstream.bench.v1) instead of the table' },
    quick: { type: 'boolean', help: 'a short run: smaller video, fewer batch sizes and repetitions' },
    model: { type: 'string', arg: 'DIR', help: 'bench this model pack instead of the generated model' },
    int8: {
      type: 'boolean',
      help: 'also measure a dynamically quantised int8 variant of the generated model',
    },
    seed: { type: 'string', arg: 'N', help: "seed of the generated model's random weights (default 1)" },
    'gflop-per-frame': {
      type: 'string',
      arg: 'G',
      help: 'cost of a --model pack whose shape is not recognised (2 FLOP per multiply-add)',
    },
    keep: { type: 'boolean', help: 'keep the scratch folder (model, video) and print where it is' },
    scenarios: {
      type: 'string',
      arg: 'LIST|all|none',
      help: 'comparisons against the expert script, comma-separated (default all; none skips them)',
    },
    rounds: {
      type: 'string',
      arg: 'N',
      help: 'alternating rounds per comparison (default 2, 1 with --quick)',
    },
    'no-budget': { type: 'boolean', help: "skip measuring the CPU budget's changes one by one" },
    help,
  },
  summary:
    "Measures this machine in one run: the runtime's float32 MatMul peak, each stage alone (decode,\n" +
    'embed, match), the pipeline end to end, and a straightforward reference pipeline, on a test\n' +
    'video rendered in the run and a CLIP ViT-B/32-shaped model with random weights (docs/performance.md).',
  notes:
    'Scenarios: 720p30-fps2, 720p30-fps1, 720p30-keyframes, 1080p60-fps2, 4x720p30-fps2.\n' +
    'Runtime settings come from the environment as for the worker: CLIPSTREAM_DEVICE,\n' +
    'CLIPSTREAM_THREADS, CLIPSTREAM_BATCH_SIZE, CLIPSTREAM_BATCH_WAIT_MS, CLIPSTREAM_MAX_FRAMES_IN_FLIGHT.',
} as const satisfies CommandSpec;

export const MODEL = {
  name: 'model',
  args: 'verify <dir>',
  flags: { help },
  summary:
    'Loads a model pack, checks its manifest, checksums and graphs, runs a dummy batch through both\n' +
    'encoders and checks shapes and normalisation.',
} as const satisfies CommandSpec;

export const INDEX = {
  name: 'index',
  flags: {
    store: { type: 'string', arg: 'S' },
    brokers: { type: 'string', arg: 'host:port,...' },
    group: { type: 'string', arg: 'G' },
    'embeddings-topic': { type: 'string', arg: 'T' },
    'results-topic': { type: 'string', arg: 'T' },
    'dlq-topic': { type: 'string', arg: 'T' },
    help,
  },
  summary:
    'Reads the frame embeddings (clipstream.embeddings) and results (clipstream.results) the workers\n' +
    'publish into the search store, as a member of the consumer group <group>.index, until SIGTERM or\n' +
    'SIGINT. The store is a folder (embedded, default ~/.clipstream/store) or a postgres:// URL\n' +
    "(CLIPSTREAM_STORE). Chunks of another model than the store's go to the DLQ topic.",
} as const satisfies CommandSpec;

export const SEARCH = {
  name: 'search',
  args: '"TEXT"',
  flags: {
    top: { type: 'string', arg: 'K' },
    store: { type: 'string', arg: 'S' },
    format: { type: 'string', arg: 'json|table' },
    model: { type: 'string', arg: 'DIR' },
    'ann-only': { type: 'boolean' },
    help,
  },
  summary:
    'Searches every video indexed into the store (clipstream index) and prints the best K moments\n' +
    '(clipstream.search.v1 JSON, or a table). The store is a folder (embedded, the default\n' +
    '~/.clipstream/store) or a postgres:// URL; --model must be the pack the videos were indexed\n' +
    'with (default: CLIPSTREAM_MODEL or the bundled pack). --ann-only ranks by nearest frames alone,\n' +
    'without the matcher (for comparison).',
} as const satisfies CommandSpec;

export const SERVE = {
  name: 'serve',
  flags: {
    port: { type: 'string', arg: 'P' },
    host: { type: 'string', arg: 'H' },
    store: { type: 'string', arg: 'S' },
    model: { type: 'string', arg: 'DIR' },
    brokers: { type: 'string', arg: '...' },
    group: { type: 'string', arg: 'G' },
    index: { type: 'boolean', or: 'no-index' },
    'no-index': { type: 'boolean' },
    help,
  },
  summary:
    'Serves the search page (GET /), GET /search?q=TEXT&top=K (clipstream.search.v1 JSON) and\n' +
    'GET /thumbnail?video=ID&t=SEC on 127.0.0.1:8470 by default. With an embedded store it also runs\n' +
    'the indexer (clipstream index) in the same process, since an embedded store belongs to one\n' +
    'process; --no-index serves only; --index runs the indexer for a postgres:// store too.',
} as const satisfies CommandSpec;

export const STREAM = {
  name: 'stream',
  args: 'start <live-uri> | stop ID | list',
  flags: {
    id: { type: 'string', arg: 'ID' },
    query: { type: 'string', multiple: true, arg: 'TEXT' },
    caption: { type: 'string', multiple: true, arg: 'TEXT' },
    fps: { type: 'string', arg: 'N' },
    'window-sec': { type: 'string', arg: 'N' },
    'rtsp-transport': { type: 'string', arg: 'tcp|udp' },
    brokers: { type: 'string', arg: '...' },
    topic: { type: 'string', arg: 'T' },
    help,
  },
  summary:
    'Starts (start <live-uri> --id ID), stops (stop ID: a tombstone) or lists (list) the streams of\n' +
    'the compacted streams topic (docs/live.md); --query, --caption, --fps, --window-sec and\n' +
    '--rtsp-transport (udp needs CLIPSTREAM_RTSP_UDP=true in the worker) go with start.',
} as const satisfies CommandSpec;

/** In the order `clipstream --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  RUN,
  WORKER,
  PUBLISH,
  RESULTS,
  STREAM,
  BENCH,
  MODEL,
  INDEX,
  SEARCH,
  SERVE,
];

const WIDTH = 100;

function flagText(name: string, f: Flag): string {
  return f.type === 'boolean' || !f.arg ? `--${name}` : `--${name} ${f.arg}`;
}

/** The bracketed flag groups of a command, in table order (`help` left out). */
function synopsisParts(c: CommandSpec): string[] {
  const shownWith = new Set(Object.values(c.flags).flatMap((f) => (f.or ? [f.or] : [])));
  const parts: string[] = [];
  for (const [name, f] of Object.entries(c.flags)) {
    if (name === 'help' || shownWith.has(name)) continue;
    const alt = f.or ? c.flags[f.or] : undefined;
    const text = alt && f.or ? `${flagText(name, f)} | ${flagText(f.or, alt)}` : flagText(name, f);
    parts.push(`[${text}]${f.multiple ? '...' : ''}`);
  }
  return parts;
}

/** `prefix` followed by the command's synopsis, wrapped at 100 columns under its first flag. */
export function synopsis(c: CommandSpec, prefix: string): string {
  const head = `${prefix}clipstream ${c.name}${c.args ? ` ${c.args}` : ''}`;
  const indent = ' '.repeat(`${prefix}clipstream ${c.name} `.length);
  const lines: string[] = [];
  let line = head;
  for (const p of synopsisParts(c)) {
    if (line.length + 1 + p.length > WIDTH && line.trim().length > 0 && line !== head) {
      lines.push(line);
      line = `${indent}${p}`;
    } else {
      line = `${line} ${p}`;
    }
  }
  lines.push(line);
  return lines.join('\n');
}

/** The `--help` text of one command. */
export function usage(c: CommandSpec): string {
  const out = [synopsis(c, 'Usage: '), c.summary];
  const described = Object.entries(c.flags).filter(([, f]) => f.help);
  if (described.length > 0) {
    const width = Math.max(...described.map(([n, f]) => flagText(n, f).length));
    out.push('', ...described.map(([n, f]) => `  ${flagText(n, f).padEnd(width)}  ${f.help}`));
  }
  if (c.notes) out.push('', c.notes);
  return `${out.join('\n')}\n`;
}
