#!/usr/bin/env node
// Runs the compiled test files with node's own test runner.
//
//   node scripts/run-tests.mjs [all|unit|integration] [--other-node-lines]
//
// Integration tests need a real Kafka broker: unless KAFKA_BROKERS is already set, this starts
// one with scripts/kafka.sh on a free port (its own data directory) and stops it afterwards,
// whatever the outcome. With --other-node-lines the unit tests also run under the other
// supported Node.js LTS lines (scripts/node-lines.sh). Ends with one `N passed, N failed` line.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const otherLines = args.includes('--other-node-lines');
const which = args.find((a) => !a.startsWith('--')) ?? 'all';
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

const scratch = mkdtempSync(join(tmpdir(), 'clipstream-tests-'));

/** Runs node's test runner on `files` with `command` (a node binary or node-lines wrapper); resolves to {pass, fail}. */
function runNodeTests(label, command, files, env) {
  const tap = join(scratch, `${label.replace(/[^a-z0-9]+/gi, '-')}.tap`);
  const argv = [
    ...command.slice(1),
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(command[0], argv, { stdio: 'inherit', env, cwd: root });
    const forward = (sig) => child.kill(sig);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
      const count = (k) => Number((text.match(new RegExp(`^# ${k} (\\d+)$`, 'm')) ?? [])[1] ?? 0);
      let pass = count('pass');
      let fail = count('fail') + count('cancelled');
      if (code !== 0 && fail === 0) fail = 1; // the runner itself failed
      resolve({ label, pass, fail });
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

const results = [];
try {
  results.push(await runNodeTests(`node ${process.version}`, [process.execPath], files, env));
} finally {
  stopBroker();
}

if (otherLines) {
  const unit = findTests(join(root, 'dist', 'test', 'unit'));
  const lines = (process.env.NODE_LINES ?? '22.23.3 24.15.0').split(/\s+/).filter(Boolean);
  for (const v of lines) {
    const fetched = spawnSync(
      join(root, 'scripts', 'node-lines.sh'),
      ['node', '-e', 'process.stdout.write(process.execPath)'],
      {
        env: { ...env, NODE_LINES: v },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    if (fetched.status !== 0 || !fetched.stdout) {
      console.error(`run-tests: could not fetch Node.js ${v}; its unit run counts as a failure`);
      results.push({ label: `node v${v} unit`, pass: 0, fail: 1 });
      continue;
    }
    console.log(`\nrun-tests: unit tests on Node.js v${v}`);
    results.push(await runNodeTests(`node v${v} unit`, [fetched.stdout.trim()], unit, env));
  }
}

rmSync(scratch, { recursive: true, force: true });
const pass = results.reduce((n, r) => n + r.pass, 0);
const fail = results.reduce((n, r) => n + r.fail, 0);
console.log('');
for (const r of results) console.log(`run-tests: ${r.label}: ${r.pass} passed, ${r.fail} failed`);
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail === 0 ? 0 : 1);
