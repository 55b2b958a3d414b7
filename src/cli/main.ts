import { readFileSync } from 'node:fs';
import { formatError } from '../errors.js';
import { benchCommand } from './bench.js';
import { modelCommand } from './model.js';
import { publishCommand } from './publish.js';
import { resultsCommand } from './results.js';
import { runCommand } from './run.js';
import { workerCommand } from './worker.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const USAGE = `clipstream ${pkg.version}: streaming video-text worker

Usage:
  clipstream run <video-path-or-url> [--query TEXT]... [--queries-file F] [--captions-file F]
                 [--model DIR] [--fps N | --sampling fps|keyframes|scene] [--format json|vtt|table]
                 [--out FILE]
  clipstream worker   [--brokers host:port,...] [--input-topic T] [--output-topic T]
                      [--dlq-topic T] [--group G] [--model DIR]
  clipstream publish  <uri> [--id VIDEO_ID] [--query TEXT]... [--brokers ...] [--topic T]
  clipstream results  [--follow] [--video VIDEO_ID] [--brokers ...] [--topic T]
  clipstream bench    [--json]
  clipstream model verify <dir>

Options:
  -h, --help     show this help
  -v, --version  print the version
`;

export const COMMANDS = ['run', 'worker', 'publish', 'results', 'bench', 'model'] as const;

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
    if (!(COMMANDS as readonly string[]).includes(cmd)) {
      process.stderr.write(`clipstream: unknown command '${cmd}' (see clipstream --help)\n`);
      return 2;
    }
    const rest = argv.slice(1);
    switch (cmd) {
      case 'run':
        return await runCommand(rest);
      case 'model':
        return await modelCommand(rest);
      case 'worker':
        return await workerCommand(rest);
      case 'publish':
        return await publishCommand(rest);
      case 'results':
        return await resultsCommand(rest);
      case 'bench':
        return await benchCommand(rest);
      default:
        process.stderr.write(`clipstream: '${cmd}' is not implemented yet\n`);
        return 1;
    }
  } catch (err) {
    process.stderr.write(`clipstream: ${formatError(err)}\n`);
    return 1;
  }
}
