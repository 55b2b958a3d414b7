import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, matchOptionsOf } from '../../src/config.js';
import { DEFAULT_MATCH_OPTIONS } from '../../src/match/index.js';
import { ClipstreamError } from '../../src/errors.js';

describe('configuration', () => {
  it('defaults, then environment, then flags', () => {
    assert.deepEqual(loadConfig({}, {}).brokers, ['127.0.0.1:9092']);
    const env = {
      CLIPSTREAM_BROKERS: 'a:1,b:2',
      CLIPSTREAM_GROUP: 'g-env',
      CLIPSTREAM_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    const fromEnv = loadConfig({}, env);
    assert.deepEqual(fromEnv.brokers, ['a:1', 'b:2']);
    assert.equal(fromEnv.group, 'g-env');
    assert.equal(fromEnv.allowPrivateNetworks, true);
    const fromFlags = loadConfig({ group: 'g-flag' }, env);
    assert.equal(fromFlags.group, 'g-flag');
    assert.ok(Object.isFrozen(fromFlags));
  });

  it('a bad value stops with one line naming the variable or flag', () => {
    const bad = (flags: object, env: NodeJS.ProcessEnv, re: RegExp) =>
      assert.throws(
        () => loadConfig(flags, env),
        (e: unknown) =>
          e instanceof ClipstreamError &&
          e.code === 'CLIPSTREAM_BAD_CONFIG' &&
          re.test(e.message) &&
          !e.message.includes('\n'),
      );
    bad({}, { CLIPSTREAM_DEVICE: 'tpu' }, /^CLIPSTREAM_DEVICE: /);
    bad({}, { CLIPSTREAM_BROKERS: 'no-port' }, /^CLIPSTREAM_BROKERS: .*host:port/);
    bad({ brokers: 'x' }, {}, /^--brokers: /);
    bad({}, { CLIPSTREAM_MAX_VIDEOS_IN_FLIGHT: '0' }, /^CLIPSTREAM_MAX_VIDEOS_IN_FLIGHT: /);
    bad({}, { CLIPSTREAM_KAFKA_SASL_MECHANISM: 'plain' }, /needs CLIPSTREAM_KAFKA_SASL_USERNAME/);
  });

  it('matching thresholds are configuration: env overrides the matcher defaults, bad values stop', () => {
    assert.deepEqual(matchOptionsOf(loadConfig({}, {})), DEFAULT_MATCH_OPTIONS);
    const m = matchOptionsOf(
      loadConfig({}, { CLIPSTREAM_MATCH_THRESHOLD: '0.7', CLIPSTREAM_WORD_WEIGHT: '1' }),
    );
    assert.equal(m.matchThreshold, 0.7);
    assert.equal(m.wordWeight, 1);
    assert.equal(m.momentThreshold, DEFAULT_MATCH_OPTIONS.momentThreshold);
    assert.throws(
      () => loadConfig({}, { CLIPSTREAM_MOMENT_THRESHOLD: '1.5' }),
      /CLIPSTREAM_MOMENT_THRESHOLD/,
    );
  });
});

describe('docs/configuration.md', () => {
  it('lists every environment variable', async () => {
    const { readFileSync } = await import('node:fs');
    const { ENV_NAMES } = await import('../../src/config.js');
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    for (const name of Object.values(ENV_NAMES))
      assert.ok(doc.includes(`\`${name}\``), `${name} is not documented`);
  });
});
