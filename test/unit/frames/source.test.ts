import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isClipstreamError } from '../../../src/errors.js';
import { resolveSource, type SourcePolicy } from '../../../src/frames/index.js';
import { parseIPv6, refusedRange } from '../../../src/frames/ip-policy.js';
import { makeTempDir, removeTempDir } from '../../helpers/media.js';

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isClipstreamError(err), `not a coded error: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('refusedRange (IPv4)', () => {
  const refused = [
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '240.0.0.1',
    '198.18.0.1',
  ];
  for (const a of refused) it(`refuses ${a}`, () => assert.notEqual(refusedRange(a), undefined));
  for (const a of [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.32.0.1',
    '172.15.255.255',
    '100.128.0.1',
    '11.0.0.1',
  ]) {
    it(`accepts ${a}`, () => assert.equal(refusedRange(a), undefined));
  }
  it('names the range', () => {
    assert.equal(refusedRange('127.0.0.1'), 'loopback');
    assert.equal(refusedRange('169.254.1.1'), 'link-local');
    assert.equal(refusedRange('192.168.0.1'), 'private');
  });
});

describe('refusedRange (IPv6)', () => {
  const refused = [
    '::1',
    '::',
    '[::1]',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fc00::1',
    'fd12:3456:789a::1',
    'ff02::1',
    'ff0e::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '[::ffff:7f00:1]',
    '::ffff:10.1.2.3',
    '::ffff:169.254.169.254',
    '0:0:0:0:0:ffff:192.168.0.1',
    '::127.0.0.1',
    '64:ff9b::10.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::1',
    '2002:c0a8:101::',
    '2001:db8::1',
    'fec0::1',
  ];
  for (const a of refused) it(`refuses ${a}`, () => assert.notEqual(refusedRange(a), undefined));
  for (const a of [
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
  ]) {
    it(`accepts ${a}`, () => assert.equal(refusedRange(a), undefined));
  }
  it('refuses text that is no address', () => {
    assert.equal(refusedRange('localhost'), 'not an IP address');
    assert.equal(refusedRange('1.2.3'), 'not an IP address');
  });
  it('parses compressed and dotted forms to the same bytes', () => {
    assert.deepEqual(parseIPv6('::ffff:127.0.0.1'), parseIPv6('0:0:0:0:0:ffff:7f00:0001'));
    assert.deepEqual(parseIPv6('1::'), Uint8Array.from([0, 1, ...new Array<number>(14).fill(0)]));
    assert.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), undefined);
  });
});

describe('resolveSource: schemes', () => {
  const policy: SourcePolicy = { allowPrivateNetworks: false };
  for (const uri of [
    'ftp://example.com/a.mp4',
    'rtmp://example.com/live',
    'data:video/mp4;base64,AAAA',
    'concat:a.mp4|b.mp4',
    'subfile:,,start,0,end,0,,:/etc/passwd',
    'javascript:alert(1)',
    'gopher://x/',
  ]) {
    it(`refuses ${uri.slice(0, 20)}`, () => rejectsWith(resolveSource(uri, policy), 'CLIPSTREAM_BAD_URI'));
  }
  it('refuses empty and NUL-bearing URIs', async () => {
    await rejectsWith(resolveSource('', policy), 'CLIPSTREAM_BAD_URI');
    await rejectsWith(resolveSource('/tmp/a\0b.mp4', policy), 'CLIPSTREAM_BAD_URI');
  });
  it('refuses file URIs with a host or an encoded slash', async () => {
    await rejectsWith(resolveSource('file://otherhost/etc/passwd', policy), 'CLIPSTREAM_BAD_URI');
    await rejectsWith(resolveSource('file:///tmp/a%2Fb.mp4', policy), 'CLIPSTREAM_BAD_URI');
  });
});

describe('resolveSource: http(s)', () => {
  const lookups: string[] = [];
  const fakeDns: Record<string, string[]> = {
    'public.example': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'mixed.example': ['93.184.216.34', '10.0.0.5'],
    'mapped.example': ['::ffff:169.254.169.254'],
    'local6.example': ['fd00::1'],
  };
  const policy: SourcePolicy = {
    allowPrivateNetworks: false,
    lookup: async (host) => {
      lookups.push(host);
      const a = fakeDns[host];
      if (a === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };

  it('accepts a public host and hands ffmpeg the normalised URL', async () => {
    const r = await resolveSource('HTTPS://Public.Example/v.mp4#frag', policy);
    assert.equal(r.kind, 'http');
    assert.equal(r.input, 'https://public.example/v.mp4');
  });
  it('refuses when any resolved address is private', () =>
    rejectsWith(resolveSource('http://mixed.example/', policy), 'CLIPSTREAM_URI_REFUSED'));
  it('refuses IPv4-mapped link-local answers', () =>
    rejectsWith(resolveSource('http://mapped.example/', policy), 'CLIPSTREAM_URI_REFUSED'));
  it('refuses unique-local IPv6 answers', () =>
    rejectsWith(resolveSource('http://local6.example/', policy), 'CLIPSTREAM_URI_REFUSED'));
  it('reports unknown hosts as not found', () =>
    rejectsWith(resolveSource('http://nowhere.example/', policy), 'CLIPSTREAM_SOURCE_NOT_FOUND'));

  const literals = [
    'http://127.0.0.1/',
    'http://127.1/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://0/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://169.254.169.254/latest/meta-data/',
    'https://[fe80::1]/',
    'http://10.1.1.1:8080/a.mp4',
    'http://user:pw@192.168.0.10/',
  ];
  for (const uri of literals) {
    it(`refuses the literal ${uri}`, () => rejectsWith(resolveSource(uri, policy), 'CLIPSTREAM_URI_REFUSED'));
  }
  it('does not look up literal addresses', async () => {
    lookups.length = 0;
    await resolveSource('http://93.184.216.34/v.mp4', policy);
    await resolveSource('http://[2606:4700:4700::1111]/v.mp4', policy);
    assert.deepEqual(lookups, []);
  });
  it('refuses localhost through the real resolver', () =>
    rejectsWith(
      resolveSource('http://localhost:9/', { allowPrivateNetworks: false }),
      'CLIPSTREAM_URI_REFUSED',
    ));
  it('allows private networks when told to', async () => {
    const r = await resolveSource('http://127.0.0.1:8080/a.mp4', { allowPrivateNetworks: true });
    assert.equal(r.input, 'http://127.0.0.1:8080/a.mp4');
  });
});

describe('resolveSource: local files and the media root', () => {
  let dir: string;
  let root: string;
  before(async () => {
    dir = await makeTempDir();
    root = join(dir, 'media');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'sub', 'a.mp4'), 'x');
    await writeFile(join(dir, 'secret.mp4'), 'x');
    await symlink(join(dir, 'secret.mp4'), join(root, 'escape.mp4'));
    await symlink(dir, join(root, 'updir'));
    await symlink(join(root, 'sub', 'a.mp4'), join(root, 'inside-link.mp4'));
    await symlink(root, join(dir, 'root-link'));
  });
  after(() => removeTempDir(dir));

  it('accepts a file under the root, by path and by file URI, and opens its real path', async () => {
    const policy = { mediaRoot: root, allowPrivateNetworks: false };
    const byPath = await resolveSource(join(root, 'sub', 'a.mp4'), policy);
    const byUri = await resolveSource(pathToFileURL(join(root, 'sub', 'a.mp4')).href, policy);
    assert.equal(byPath.kind, 'file');
    assert.equal(byPath.input, byUri.input);
    assert.ok(byPath.input.startsWith('file:/'));
    assert.equal(byPath.sizeBytes, 1);
  });
  it('accepts a symlink that stays inside the root', async () => {
    const r = await resolveSource(join(root, 'inside-link.mp4'), {
      mediaRoot: root,
      allowPrivateNetworks: false,
    });
    assert.ok(r.input.endsWith('/sub/a.mp4'));
  });
  it('accepts files when the root itself is reached through a symlink', async () => {
    const r = await resolveSource(join(dir, 'root-link', 'sub', 'a.mp4'), {
      mediaRoot: join(dir, 'root-link'),
      allowPrivateNetworks: false,
    });
    assert.ok(r.input.endsWith('/media/sub/a.mp4'));
  });
  it('refuses .. escapes', () =>
    rejectsWith(
      resolveSource(join(root, 'sub', '..', '..', 'secret.mp4'), {
        mediaRoot: root,
        allowPrivateNetworks: false,
      }),
      'CLIPSTREAM_URI_REFUSED',
    ));
  it('refuses encoded .. escapes in file URIs', () =>
    rejectsWith(
      resolveSource(`${pathToFileURL(root).href}/sub/%2E%2E/%2E%2E/secret.mp4`, {
        mediaRoot: root,
        allowPrivateNetworks: false,
      }),
      'CLIPSTREAM_URI_REFUSED',
    ));
  it('refuses a symlinked file pointing outside', () =>
    rejectsWith(
      resolveSource(join(root, 'escape.mp4'), { mediaRoot: root, allowPrivateNetworks: false }),
      'CLIPSTREAM_URI_REFUSED',
    ));
  it('refuses a path through a symlinked folder pointing outside', () =>
    rejectsWith(
      resolveSource(join(root, 'updir', 'secret.mp4'), { mediaRoot: root, allowPrivateNetworks: false }),
      'CLIPSTREAM_URI_REFUSED',
    ));
  it('refuses paths outside the root even when they do not exist', () =>
    rejectsWith(
      resolveSource(join(dir, 'missing.mp4'), { mediaRoot: root, allowPrivateNetworks: false }),
      'CLIPSTREAM_URI_REFUSED',
    ));
  it('refuses the root folder itself and folders', async () => {
    await rejectsWith(
      resolveSource(root, { mediaRoot: root, allowPrivateNetworks: false }),
      'CLIPSTREAM_URI_REFUSED',
    );
    await rejectsWith(
      resolveSource(join(root, 'sub'), { mediaRoot: root, allowPrivateNetworks: false }),
      'CLIPSTREAM_SOURCE_NOT_FOUND',
    );
  });
  it('reports a missing file under the root as not found', () =>
    rejectsWith(
      resolveSource(join(root, 'nope.mp4'), { mediaRoot: root, allowPrivateNetworks: false }),
      'CLIPSTREAM_SOURCE_NOT_FOUND',
    ));
  it('without a root, reads any local path (command-line use)', async () => {
    const r = await resolveSource(join(dir, 'secret.mp4'), { allowPrivateNetworks: false });
    assert.ok(r.input.endsWith('/secret.mp4'));
  });
  it('resolves relative paths against the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const r = await resolveSource('sub/a.mp4', { mediaRoot: root, allowPrivateNetworks: false });
      assert.ok(r.input.endsWith('/media/sub/a.mp4'));
      await rejectsWith(
        resolveSource('../secret.mp4', { mediaRoot: root, allowPrivateNetworks: false }),
        'CLIPSTREAM_URI_REFUSED',
      );
    } finally {
      process.chdir(cwd);
    }
  });
  it('treats names that look like ffmpeg protocols as plain local paths only when they have no scheme', async () => {
    await writeFile(join(root, 'sub', 'x|y.mp4'), 'x');
    const r = await resolveSource(join(root, 'sub', 'x|y.mp4'), {
      mediaRoot: root,
      allowPrivateNetworks: false,
    });
    assert.ok(r.input.startsWith('file:/'));
  });
});
