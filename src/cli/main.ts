import { readFileSync } from 'node:fs';
import { formatError } from '../errors.js';
import { COMMANDS, synopsis } from './flags.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const USAGE = `clipstream ${pkg.version}: streaming video-text worker

Usage:
${COMMANDS.map((c) => synopsis(c, '  ')).join('\n')}

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
  index: async () => (await import('./index.js')).indexCommand,
  search: async () => (await import('./search.js')).searchCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
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

/** How long a finished command may take to exit on its own before it is made to. */
export const EXIT_DELAY_MS = 1000;

/**
 * Ends the process with `code` once a command is done. It exits by itself when nothing is left
 * on the event loop; if a library left a timer or socket behind (kafkajs' retry timers for a
 * broker that is gone), this last line of defence exits anyway after EXIT_DELAY_MS, so a worker
 * that has shut down always ends with its exit code. Output written so far is not lost: stdout
 * and stderr are synchronous for files and pipes on Linux.
 */
export function exitWhenDone(code: number): void {
  process.exitCode = code;
  setTimeout(() => {
    if (process.env.CLIPSTREAM_DEBUG_HANDLES) {
      process.stderr.write(
        `clipstream: still open after exit: ${process.getActiveResourcesInfo().join(', ')}\n`,
      );
    }
    process.exit(code);
  }, EXIT_DELAY_MS).unref();
}
