import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import { kafkaConfig } from '../../../src/ingest/client.js';
import { silentLogger } from '../../../src/log.js';

describe('Kafka client settings', () => {
  it('plain brokers, no TLS, no SASL by default', () => {
    const c = kafkaConfig(loadConfig({}, { CLIPSTREAM_BROKERS: 'a:9092,b:9093' }), silentLogger);
    assert.deepEqual(c.brokers, ['a:9092', 'b:9093']);
    assert.equal(c.ssl, false);
    assert.equal(c.sasl, undefined);
  });

  it('maps SASL mechanisms and credentials', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const c = kafkaConfig(
        loadConfig(
          {},
          {
            CLIPSTREAM_KAFKA_SSL: 'true',
            CLIPSTREAM_KAFKA_SASL_MECHANISM: mechanism,
            CLIPSTREAM_KAFKA_SASL_USERNAME: 'u',
            CLIPSTREAM_KAFKA_SASL_PASSWORD: 'p',
          },
        ),
        silentLogger,
      );
      assert.deepEqual(c.sasl, { mechanism, username: 'u', password: 'p' });
      assert.equal(c.ssl, true);
    }
  });

  it('TLS with a CA file and without verification', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-ca-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nxyz\n-----END CERTIFICATE-----\n');
    const c = kafkaConfig(
      loadConfig({}, { CLIPSTREAM_KAFKA_SSL: 'true', CLIPSTREAM_KAFKA_SSL_CA_FILE: ca }),
      silentLogger,
    );
    assert.deepEqual(c.ssl, {
      rejectUnauthorized: true,
      ca: ['-----BEGIN CERTIFICATE-----\nxyz\n-----END CERTIFICATE-----\n'],
    });
    const insecure = kafkaConfig(
      loadConfig({}, { CLIPSTREAM_KAFKA_SSL: 'true', CLIPSTREAM_KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }),
      silentLogger,
    );
    assert.deepEqual(insecure.ssl, { rejectUnauthorized: false });
    assert.throws(
      () =>
        kafkaConfig(
          loadConfig(
            {},
            { CLIPSTREAM_KAFKA_SSL: 'true', CLIPSTREAM_KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') },
          ),
          silentLogger,
        ),
      { code: 'CLIPSTREAM_BAD_CONFIG' },
    );
  });
});
