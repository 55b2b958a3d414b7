/** Messages between the main process (sessions.ts) and an inference process (inference-worker.ts), over its IPC channel. */
import type { ErrorCode } from '../errors.js';
import type { Manifest } from './manifest.js';
import type { Provider, RuntimeOptions } from './runtime-options.js';

export type WorkerRequest =
  | {
      type: 'init';
      id: number;
      manifest: Manifest;
      /** `text` absent: an image-only lane */
      files: { image: string; text?: string };
      runtime: RuntimeOptions;
    }
  | { type: 'image'; id: number; pixels: Uint8Array; n: number }
  | { type: 'text'; id: number; ids: BigInt64Array; mask: BigInt64Array; n: number }
  | { type: 'release'; id: number };

export type WorkerReply =
  | { type: 'ready'; id: number; provider: Provider; fallback?: { reason: string; level: 'info' | 'warn' } }
  | { type: 'image'; id: number; embeds: Float32Array }
  | { type: 'text'; id: number; sentence: Float32Array; tokens: Float32Array }
  | { type: 'released'; id: number }
  | { type: 'error'; id: number; error: { code: ErrorCode; message: string } };
