#!/usr/bin/env node
// Runs the compiled test files with node's own test runner. Integration tests need a real Kafka
// broker: unless KAFKA_BROKERS is already set, this starts one with scripts/kafka.sh on a free
// port (its own data directory) and stops it afterwards, whatever the outcome.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const which = process.argv[2] ?? 'all';
const suites = which === 'all' ? ['unit', 'integration'] : [which];

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const files = suites.flatMap((s) => findTests(join(root, 'dist', 'test', s)));
if (files.length === 0) {
  console.error('run-tests: no compiled tests found; run `npm run build` first');
  process.exit(1);
}

const env = { ...process.env };
let startedPort;
if (suites.includes('integration') && !env.KAFKA_BROKERS) {
  startedPort = String(await freePort());
  const r = spawnSync(join(root, 'scripts', 'kafka.sh'), ['start'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, KAFKA_PORT: startedPort },
  });
  if (r.status !== 0) {
    console.error(`run-tests: could not start the Kafka broker on port ${startedPort}`);
    process.exit(1);
  }
  env.KAFKA_BROKERS = `127.0.0.1:${startedPort}`;
}

function stopBroker() {
  if (!startedPort) return;
  spawnSync(join(root, 'scripts', 'kafka.sh'), ['stop'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...env, KAFKA_PORT: startedPort },
  });
  startedPort = undefined;
}

const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', env, cwd: root },
);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => child.kill(sig));
}
child.on('exit', (code, signal) => {
  stopBroker();
  process.exit(code ?? (signal ? 1 : 0));
});
