import { readFileSync } from 'node:fs';
import { formatError } from '../errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const USAGE = `clipstream ${pkg.version}: streaming video-text worker

Usage:
  clipstream run <video-path-or-url> [--query TEXT]... [--queries-file F] [--captions-file F]
                 [--model DIR] [--fps N | --sampling fps|keyframes|scene] [--format json|vtt|table]
                 [--out FILE] [--window-sec N]   (a live URI prints NDJSON windows)
  clipstream worker   [--brokers host:port,...] [--input-topic T] [--output-topic T]
                      [--dlq-topic T] [--group G] [--model DIR]
  clipstream publish  <uri> [--id VIDEO_ID] [--query TEXT]... [--brokers ...] [--topic T]
  clipstream results  [--follow] [--video VIDEO_ID] [--brokers ...] [--topic T]
  clipstream stream   start <live-uri> --id ID [--query TEXT]... [--window-sec N] | stop ID | list
  clipstream bench    [--json]
  clipstream model verify <dir>

Options:
  -h, --help     show this help
  -v, --version  print the version
`;

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command is loaded when it runs: `clipstream --version` or `publish` need not load ONNX
 * Runtime, kafkajs or the OpenTelemetry SDK.
 */
const COMMAND_LOADERS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  worker: async () => (await import('./worker.js')).workerCommand,
  publish: async () => (await import('./publish.js')).publishCommand,
  results: async () => (await import('./results.js')).resultsCommand,
  bench: async () => (await import('./bench.js')).benchCommand,
  model: async () => (await import('./model.js')).modelCommand,
  stream: async () => (await import('./stream.js')).streamCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd] = argv;
  try {
    if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '-v' || cmd === '--version') {
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    const load = Object.hasOwn(COMMAND_LOADERS, cmd) ? COMMAND_LOADERS[cmd] : undefined;
    if (!load) {
      process.stderr.write(`clipstream: unknown command '${cmd}' (see clipstream --help)\n`);
      return 2;
    }
    return await (
      await load()
    )(argv.slice(1));
  } catch (err) {
    process.stderr.write(`clipstream: ${formatError(err)}\n`);
    return 1;
  }
}
