/**
 * Structured logs on stderr. The worker writes one JSON object per line (what log pipelines
 * expect); the CLI's local commands write short human lines and stay quiet below `warn`, so
 * stdout and stderr keep to the CLI contract.
 */

export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
  write?: (line: string) => void;
  base?: Fields;
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const base = opts.base ?? {};
  const emit = (level: Level, msg: string, fields?: Fields): void => {
    if (ORDER[level] < ORDER[opts.level]) return;
    const all = { ...base, ...fields };
    if (opts.format === 'json') {
      write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...all }, jsonSafe)}\n`);
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`)
        .join(' ');
      write(`clipstream: ${level === 'info' ? '' : `${level}: `}${msg}${extra ? ` (${extra})` : ''}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export const silentLogger: Logger = createLogger({ level: 'error', format: 'text', write: () => undefined });
