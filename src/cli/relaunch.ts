/**
 * Keeps long command lines away from ONNX Runtime.
 *
 * onnxruntime-node 1.30 on Linux reads /proc/self/cmdline when it creates its environment (the
 * telemetry system-info code it links in) and matches it with a std::regex (`(.*)[ ]*.*[\n]*`);
 * libstdc++'s regex executor recurses once per character, so a command line of some tens of
 * kilobytes (a long `--query`) overflows the stack of the thread loading the model: SIGSEGV, exit
 * 139, before any of our code can answer. The process's command line cannot be shortened once it
 * runs (overwriting argv keeps its length), so a command line longer than a safe bound is handed
 * to a fresh process of the same program through a pipe instead of its argv.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { ClipstreamError } from '../errors.js';

/** Bytes of command line beyond which the arguments go through a pipe (well below the crash, ~14 KB on a worker thread). */
export const MAX_CMDLINE_BYTES = 4096;

/** Internal: set in the relaunched process; names the file descriptor its arguments come on. */
export const ARGV_FD_ENV = 'CLIPSTREAM_INTERNAL_ARGV_FD';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function cmdlineBytes(argv: readonly string[]): number {
  return argv.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/** The arguments a relaunched process was given through its pipe, or undefined when not relaunched. */
export function argvFromPipe(): string[] | undefined {
  const fd = process.env[ARGV_FD_ENV];
  if (fd === undefined) return undefined;
  delete process.env[ARGV_FD_ENV];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(Number(fd), 'utf8'));
  } catch (err) {
    throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'could not read the relaunched arguments', {
      cause: err,
    });
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new ClipstreamError('CLIPSTREAM_INTERNAL', 'relaunched arguments are not a list of strings');
  return parsed;
}

/** Whether this process's command line is too long to load ONNX Runtime in. */
export function needsRelaunch(): boolean {
  return cmdlineBytes([process.execPath, ...process.execArgv, ...process.argv.slice(1)]) > MAX_CMDLINE_BYTES;
}

/**
 * Runs `script` again in a child process with a short command line, its arguments sent through
 * a pipe; stdio is shared, signals are passed on, and the child's exit code is returned. The
 * child runs in its own process group, so a terminal's Ctrl-C reaches it once (through here).
 */
export function relaunch(script: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script], {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, [ARGV_FD_ENV]: '3' },
      detached: true,
    });
    const pipe = child.stdio[3] as NodeJS.WritableStream;
    pipe.on('error', () => undefined); // the child died early: its exit says why
    pipe.end(JSON.stringify(args));
    const forward = (sig: NodeJS.Signals) => () => {
      child.kill(sig);
    };
    const handlers = SIGNALS.map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const done = (code: number) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code);
    };
    child.on('error', (err) => {
      process.stderr.write(`clipstream: CLIPSTREAM_INTERNAL: could not relaunch: ${err.message}\n`);
      done(1);
    });
    child.on('exit', (code, signal) => {
      if (signal) done(128 + signalNumber(signal));
      else done(code ?? 1);
    });
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  return constants.signals[sig] ?? 0;
}
