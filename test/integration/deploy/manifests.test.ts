/**
 * deploy/: the Kubernetes manifests decode strictly into the Kubernetes API types (Go,
 * k8s.io/api via deploy/validate) and pass the cross-checks; the container image's COPY sources
 * exist. Needs Go (present on the project's machines); the module proxy is used on first run.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../../helpers/cli.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';

function validate(dir: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'go',
      ['run', '.', dir],
      { cwd: join(ROOT, 'deploy', 'validate'), timeout: 600_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
      },
    );
  });
}

describe('deploy', () => {
  let tmp: string;
  before(async () => {
    tmp = await makeTempDir('clipstream-deploy-');
  });
  after(() => removeTempDir(tmp));

  it('the Kubernetes manifests validate against the API types', { timeout: 600_000 }, async () => {
    const r = await validate(join(ROOT, 'deploy', 'k8s'));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /ok \(1 Deployment/);
  });

  it('the validator rejects an unknown field and a dangling reference', { timeout: 600_000 }, async () => {
    const bad = join(tmp, 'k8s');
    await cp(join(ROOT, 'deploy', 'k8s'), bad, { recursive: true });
    const dep = join(bad, 'deployment.yaml');
    await writeFile(dep, (await readFile(dep, 'utf8')).replace('readinessProbe:', 'readynessProbe:'));
    const so = join(bad, 'scaledobject.yaml');
    await writeFile(
      so,
      (await readFile(so, 'utf8')).replace(
        'name: clipstream\n  minReplicaCount',
        'name: other\n  minReplicaCount',
      ),
    );
    const r = await validate(bad);
    assert.notEqual(r.code, 0);
    assert.match(r.out, /unknown field "readynessProbe"/);
  });

  it('every COPY source of the container image exists', async () => {
    const docker = await readFile(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
    const sources = [...docker.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.trim().split(/\s+/).slice(0, -1),
    );
    assert.ok(sources.length >= 5);
    for (const s of sources) assert.ok(existsSync(join(ROOT, s)), `COPY source ${s} is missing`);
  });
});
