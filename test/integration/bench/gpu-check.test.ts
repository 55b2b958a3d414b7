/**
 * bench/gpu-check.sh's CPU dry run (`--cpu --quick`), as CI runs it: the script builds nothing
 * new here (dist/ is built), runs every step of the GPU check on the CPU provider and CPU
 * decode, and prints one JSON line per figure. Checks the lines, never the speed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bench/gpu-check.sh', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bench/gpu-check.sh --cpu --quick', () => {
  it('prints embed rates at batch 1/16/64, decode rates, four videos end to end, fp16 status, done', async () => {
    const { code, stdout, stderr } = await run(['--cpu', '--quick']);
    assert.equal(code, 0, stderr);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const of = (check: string) => lines.filter((l) => l.check === check);
    assert.equal(of('machine')[0]?.mode, 'cpu');
    const embed = of('embed');
    assert.deepEqual(
      embed.map((e) => e.batch),
      [1, 16, 64],
    );
    for (const e of embed) assert.ok((e.framesPerSec as number) > 0, JSON.stringify(e));
    const decode = of('decode');
    assert.equal(decode.length, 2);
    assert.deepEqual(
      decode.map((d) => d.frames),
      [12, 180],
    );
    const e2e = of('e2e')[0];
    assert.equal(e2e?.videos, 4);
    assert.equal(e2e?.frames, 48);
    assert.equal(of('fp16').length, 1);
    assert.deepEqual(lines[lines.length - 1], { check: 'done', ok: true });
  });
});
