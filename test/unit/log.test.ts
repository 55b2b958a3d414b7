import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSchema, loadConfig } from '../../src/config.js';
import { ClipstreamError } from '../../src/errors.js';
import { REDACTED, SECRET_KEYS, createLogger } from '../../src/log.js';

function capture(format: 'json' | 'text' = 'json') {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', format, write: (l) => lines.push(l), base: { service: 't' } });
  return { log, lines };
}

describe('log (pino behind the Logger interface)', () => {
  it('writes one JSON object per line with level, ISO time, msg and the fields; drops levels below', () => {
    const { log, lines } = capture();
    log.child({ partition: 3 }).info('published result', { videoId: 'v1', offset: 7n });
    log.debug('not written');
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n') && !lines[0]!.slice(0, -1).includes('\n'));
    const o = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(o.level, 'info');
    assert.equal(o.msg, 'published result');
    assert.ok(!Number.isNaN(Date.parse(String(o.time))) && String(o.time).endsWith('Z'));
    assert.deepEqual([o.service, o.partition, o.videoId, o.offset], ['t', 3, 'v1', '7']);
  });

  it("keeps a logged error's type, code, stack and cause chain", () => {
    const { log, lines } = capture();
    const root = new Error('connection reset by peer');
    const err = new ClipstreamError('CLIPSTREAM_SOURCE_UNAVAILABLE', 'fetching the source failed', {
      cause: root,
    });
    log.warn('retrying a video after a transient fault', { error: err });
    const o = JSON.parse(lines[0]!) as { error: Record<string, unknown> };
    assert.equal(o.error.message, 'fetching the source failed');
    assert.equal(o.error.code, 'CLIPSTREAM_SOURCE_UNAVAILABLE');
    assert.equal(o.error.type, 'ClipstreamError');
    assert.equal(o.error.stack, err.stack);
    const cause = o.error.cause as Record<string, unknown>;
    assert.equal(cause.message, 'connection reset by peer');
    assert.equal(cause.stack, root.stack);
  });

  it('redacts the SASL password wherever it is logged, in JSON and in text lines', () => {
    const secret = 'hunter2-do-not-log';
    const config = loadConfig(
      {},
      {
        CLIPSTREAM_KAFKA_SASL_MECHANISM: 'plain',
        CLIPSTREAM_KAFKA_SASL_USERNAME: 'svc',
        CLIPSTREAM_KAFKA_SASL_PASSWORD: secret,
      },
    );
    for (const format of ['json', 'text'] as const) {
      const { log, lines } = capture(format);
      log.info('configuration', { config });
      log.child({ saslPassword: secret }).warn('kafka', { kafka: { sasl: { password: secret } } });
      const all = lines.join('');
      assert.equal(all.includes(secret), false, all);
      assert.ok(all.includes(REDACTED));
      assert.ok(all.includes('svc'), 'the rest of the configuration is logged');
    }
  });

  it('every configuration setting marked secret is redacted', () => {
    const secret = Object.entries(ConfigSchema.shape)
      .filter(([, s]) => (s.meta() as { secret?: boolean } | undefined)?.secret === true)
      .map(([k]) => k);
    assert.ok(secret.includes('saslPassword'));
    for (const k of secret) assert.ok(SECRET_KEYS.includes(k), `${k} is secret but not redacted`);
  });
});
