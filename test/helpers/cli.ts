/** Runs the real `clipstream` command (bin/clipstream.js) as a child process. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../../bin/clipstream.js', import.meta.url));
export const TINY_PACK = fileURLToPath(
  new URL('../../../test/fixtures/packs/tiny-openclip', import.meta.url),
);
export const BUNDLED_PACK = fileURLToPath(new URL('../../../models/shapes-v1', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function clipstream(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 180_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Asserts the CLI error contract: non-zero exit, nothing on stdout, one stderr line with the code. */
export function errorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  if (r.code === 0) throw new Error(`expected a failure, got exit 0 (stdout ${r.stdout.slice(0, 200)})`);
  if (r.stdout !== '')
    throw new Error(`stdout must be empty on error, got ${JSON.stringify(r.stdout.slice(0, 200))}`);
  if (lines.length !== 1)
    throw new Error(`expected one stderr line, got ${lines.length}: ${JSON.stringify(r.stderr)}`);
  return lines[0]!;
}

export interface Child {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/clipstream.js ...args` in the background, with only `env` (plus PATH/HOME/TMPDIR). */
export function spawnCli(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'clipstream.js'), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TMPDIR: process.env.TMPDIR ?? '',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    if (process.env.TEST_WORKER_LOG) process.stderr.write(d);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => err, exited };
}
