/**
 * The one SQL connection of a store: PGlite (PostgreSQL in WASM, with pgvector) in a folder for
 * the embedded default, or a `pg` client for a `postgres://` server. Both speak the same SQL;
 * calls are serialised, so a transaction never interleaves with another caller's statements.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { ClipstreamError, toClipstreamError } from '../errors.js';
import { isServerStore } from './options.js';

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  /** Where the store lives, with any password left out. */
  readonly where: string;
  readonly embedded: boolean;
  /** Runs `fn` in one transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  /** Idempotent. */
  close(): Promise<void>;
}

export const LOCK_FILE = 'clipstream.lock';

function storeFailed(what: string, err: unknown): ClipstreamError {
  if (err instanceof ClipstreamError) return err;
  return new ClipstreamError('CLIPSTREAM_STORE_FAILED', `${what}: ${(err as Error).message ?? String(err)}`, {
    cause: err,
  });
}

/** A chain that runs one call at a time. */
function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the embedded store's lock file (O_EXCL with this process's id). A lock left by a process
 * that is gone is taken over; one held by a live process is CLIPSTREAM_STORE_LOCKED.
 */
async function lockFolder(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeFailed(`cannot lock ${dir}`, err);
    }
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new ClipstreamError(
        'CLIPSTREAM_STORE_LOCKED',
        `store ${dir} is in use by process ${pid} (an embedded store belongs to one process; run search through its 'clipstream serve')`,
      );
    }
    if (pid === process.pid)
      throw new ClipstreamError('CLIPSTREAM_STORE_LOCKED', `store ${dir} is already open in this process`);
    await unlink(path).catch(() => undefined);
  }
  throw new ClipstreamError('CLIPSTREAM_STORE_LOCKED', `store ${dir} is being opened by another process`);
}

async function openEmbedded(folder: string): Promise<Db> {
  const dir = resolve(folder);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw storeFailed(`cannot create store folder ${dir}`, err);
  }
  const unlock = await lockFolder(dir);
  let pg: PGlite;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    const { vector } = await import('@electric-sql/pglite-pgvector');
    pg = await PGlite.create({ dataDir: join(dir, 'pgdata'), extensions: { vector } });
  } catch (err) {
    await unlock();
    throw storeFailed(`cannot open the embedded store in ${dir}`, err);
  }
  const db = pg;
  const one = serial();
  let closing: Promise<void> | undefined;
  const query = async <T>(text: string, params?: unknown[]) => (await db.query<T>(text, params)).rows;
  return {
    where: dir,
    embedded: true,
    query: (text, params) => one(() => query(text, params)),
    transaction: (fn) =>
      one(() =>
        db.transaction(async (tx) => fn({ query: async (t, p) => (await tx.query(t, p)).rows as never })),
      ),
    close() {
      closing ??= one(async () => {
        try {
          await db.close();
        } finally {
          await unlock();
        }
      });
      return closing;
    },
  };
}

async function openServer(url: string): Promise<Db> {
  const { default: pg } = await import('pg');
  let where = url;
  try {
    const u = new URL(url);
    u.password = '';
    where = u.href;
  } catch {
    throw new ClipstreamError('CLIPSTREAM_BAD_CONFIG', 'store URL is not a valid postgres:// URL');
  }
  const client = new pg.Client({ connectionString: url });
  // An idle connection dropped by the server must not crash the process: the next call fails, coded.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw storeFailed(`cannot connect to ${where}`, err);
  }
  const one = serial();
  let closing: Promise<void> | undefined;
  const query = async <T>(text: string, params?: unknown[]) => (await client.query(text, params)).rows as T[];
  return {
    where,
    embedded: false,
    query: (text, params) => one(() => query(text, params)),
    transaction: (fn) =>
      one(async () => {
        await client.query('BEGIN');
        try {
          const out = await fn({ query });
          await client.query('COMMIT');
          return out;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    close() {
      closing ??= client.end().catch(() => undefined);
      return closing;
    },
  };
}

/** Opens the store a setting names; failures are coded (locked, unreachable, unreadable). */
export async function openDb(store: string): Promise<Db> {
  try {
    return isServerStore(store) ? await openServer(store) : await openEmbedded(store);
  } catch (err) {
    throw err instanceof ClipstreamError ? err : toClipstreamError(err, 'CLIPSTREAM_STORE_FAILED');
  }
}
