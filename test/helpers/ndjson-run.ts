/** `clipstream run <live-uri>` as a child process whose NDJSON lines are read as they arrive. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { BIN } from './cli.js';

export interface Line<T> {
  readonly at: number;
  readonly doc: T;
}

export class NdjsonRun<T> {
  readonly child: ChildProcess;
  readonly lines: Line<T>[] = [];
  stderr = '';
  readonly exit: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 150_000) {
    this.child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push({ at: Date.now(), doc: JSON.parse(buf.slice(0, i)) as T });
        buf = buf.slice(i + 1);
        this.wake();
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.wake();
    });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    this.exit = new Promise((r) =>
      this.child.once('close', (code) => {
        clearTimeout(timer);
        this.wake();
        r(code);
      }),
    );
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `pred` holds (checked on every line and exit); rejects after `ms`. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`clipstream exited before ${what}: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}
