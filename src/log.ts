/**
 * Structured logs on stderr, through pino. The worker writes one JSON object per line (what log
 * pipelines expect): `level` and `time` (ISO 8601), `msg`, then the fields. An error anywhere in
 * the fields keeps its type, message, code, stack and `cause` chain. Secrets (the SASL password
 * and every field of the configuration marked secret) are redacted wherever they appear up to
 * three levels deep. The CLI's local commands write short human lines and stay quiet below
 * `warn`, so stdout and stderr keep to the CLI contract.
 */
import { pino, stdSerializers } from 'pino';

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

export interface LoggerOptions {
  level: Level;
  format: 'json' | 'text';
  /** Where each line goes (with its newline). Default: stderr, written synchronously. */
  write?: (line: string) => void;
  base?: Fields;
}

/**
 * Field names whose values never reach a log line. Every configuration setting marked secret
 * (`.meta({ secret: true })` in a stage's options) must be here; a unit test checks it.
 */
export const SECRET_KEYS: readonly string[] = ['saslPassword', 'password', 'sasl.password'];

export const REDACTED = '[redacted]';

const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Errors become plain objects with stack and cause; bigints become strings (JSON has none). */
function serialisable(value: unknown): unknown {
  if (value instanceof Error) return stdSerializers.errWithCause(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function prepare(fields: Fields | undefined): Fields {
  const out: Fields = {};
  if (fields) for (const [k, v] of Object.entries(fields)) out[k] = serialisable(v);
  return out;
}

function textLine(json: string): string {
  const { level, msg, time: _t, ...rest } = JSON.parse(json) as Fields & { level: Level; msg: string };
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `clipstream: ${level === 'info' ? '' : `${level}: `}${msg}${extra ? ` (${extra})` : ''}\n`;
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (m, f) => p.debug(prepare(f), m),
    info: (m, f) => p.info(prepare(f), m),
    warn: (m, f) => p.warn(prepare(f), m),
    error: (m, f) => p.error(prepare(f), m),
    child: (fields) => wrap(p.child(prepare(fields))),
  };
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const sink = opts.format === 'json' ? write : (line: string) => write(textLine(line));
  const p = pino(
    {
      level: opts.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths, censor: REDACTED },
    },
    { write: sink },
  );
  return wrap(opts.base ? p.child(prepare(opts.base)) : p);
}

export const silentLogger: Logger = createLogger({ level: 'error', format: 'text', write: () => undefined });
