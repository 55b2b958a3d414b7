/**
 * The one home of the source policy: local-file modes per role, allowed networks, every
 * spelling of a refused address, and rtsp resolved once to a checked address literal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config.js';
import { isClipstreamError } from '../../../src/errors.js';
import {
  checkSourcePolicy,
  checkUri,
  resolveRtsp,
  resolveSource,
  sourcePolicyFor,
} from '../../../src/frames/index.js';
import type { Lookup, SourcePolicy } from '../../../src/frames/index.js';
import { addressRefusal, hostAddress, parseNetworks } from '../../../src/frames/ip-policy.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isClipstreamError(err) ? err.code : `not coded: ${String(err)}`;
  }
}

async function rejectsWith(p: Promise<unknown>, expected: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isClipstreamError(err), `not a coded error: ${String(err)}`);
    assert.equal(err.code, expected, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('sourcePolicyFor: the media-root rule', () => {
  const net = { allowPrivateNetworks: false };
  it('cli reads local files anywhere without a root, under the root with one', () => {
    assert.equal(sourcePolicyFor('cli', net).localFiles, 'anywhere');
    assert.equal(sourcePolicyFor('cli', { ...net, mediaRoot: '/m' }).localFiles, 'media-root');
  });
  it('worker reads local files only under its root, and none without one', () => {
    assert.equal(sourcePolicyFor('worker', net).localFiles, 'refused');
    assert.equal(sourcePolicyFor('worker', { ...net, mediaRoot: '/m' }).localFiles, 'media-root');
  });
  it('checkUri refuses local files (paths and file URIs) in refused mode, and nothing else', () => {
    const worker = sourcePolicyFor('worker', net);
    assert.equal(
      code(() => checkUri('/tmp/a.mp4', worker)),
      'CLIPSTREAM_URI_REFUSED',
    );
    assert.equal(
      code(() => checkUri('FILE:///tmp/a.mp4', worker)),
      'CLIPSTREAM_URI_REFUSED',
    );
    assert.equal(
      code(() => checkUri('relative.mp4', worker)),
      'CLIPSTREAM_URI_REFUSED',
    );
    assert.equal(checkUri('https://example.com/a.mp4', worker), 'http');
    assert.equal(checkUri('rtsp://cam/live', worker), 'rtsp');
    assert.equal(
      code(() => checkUri('ftp://x/a.mp4', worker)),
      'CLIPSTREAM_BAD_URI',
    );
    assert.equal(checkUri('/tmp/a.mp4', sourcePolicyFor('cli', net)), 'file');
  });
  it('resolveSource refuses local files in refused mode, and media-root mode without a root', async () => {
    await rejectsWith(
      resolveSource('/etc/hostname', sourcePolicyFor('worker', net)),
      'CLIPSTREAM_URI_REFUSED',
    );
    await rejectsWith(
      resolveSource('/etc/hostname', { ...net, localFiles: 'media-root' }),
      'CLIPSTREAM_URI_REFUSED',
    );
  });
  it('checkSourcePolicy stops start-up on a media root that is no folder, or a bad network', async () => {
    await rejectsWith(
      checkSourcePolicy(sourcePolicyFor('worker', { ...net, mediaRoot: '/no/such/dir' })),
      'CLIPSTREAM_BAD_CONFIG',
    );
    await rejectsWith(
      checkSourcePolicy({ ...net, allowedNetworks: ['10.0.0.0/33'] }),
      'CLIPSTREAM_BAD_CONFIG',
    );
    await checkSourcePolicy(sourcePolicyFor('worker', { ...net, mediaRoot: '/tmp' }));
  });
});

describe('bypass spellings of refused addresses', () => {
  // What a URL host may say, and the address it means (WHATWG URL / inet_aton reading).
  const forms: Array<[string, string]> = [
    ['2130706433', '127.0.0.1'], // decimal
    ['0x7f000001', '127.0.0.1'], // hex
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'], // octal
    ['017700000001', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'], // trailing dot
    ['0X7F.1', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['0.0.0.0', '0.0.0.0'],
    ['[::1]', '::1'],
    ['::1', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[0:0:0:0:0:ffff:a9fe:a9fe]', '::ffff:a9fe:a9fe'],
    ['3232235521', '192.168.0.1'],
  ];
  for (const [host, address] of forms) {
    it(`${host} is the address ${address}, and refused`, () => {
      assert.equal(hostAddress(host)?.toString(), address);
      assert.notEqual(addressRefusal(hostAddress(host)!, { allowPrivateNetworks: false }), undefined);
    });
  }
  it('zone ids are not valid URL hosts', async () => {
    await rejectsWith(
      resolveSource('http://[fe80::1%25eth0]/', { allowPrivateNetworks: false }),
      'CLIPSTREAM_BAD_URI',
    );
  });
  it('names are not addresses', () => {
    for (const h of ['localhost', 'example.com', '127.0.0.1.nip.io', ''])
      assert.equal(hostAddress(h), undefined, h);
  });
  it('public addresses in any spelling pass', () => {
    for (const h of ['93.184.216.34', '1572395042', '[2606:4700:4700::1111]', '[::ffff:8.8.8.8]']) {
      assert.equal(addressRefusal(hostAddress(h)!, { allowPrivateNetworks: false }), undefined, h);
    }
  });
});

describe('allowed networks', () => {
  const policy = {
    allowPrivateNetworks: false,
    allowedNetworks: ['10.20.0.0/16', '127.0.0.2/32', 'fd00:1::/64'],
  };
  it('let chosen private ranges through, and only those', () => {
    assert.equal(addressRefusal('10.20.3.4', policy), undefined);
    assert.equal(addressRefusal('127.0.0.2', policy), undefined);
    assert.equal(addressRefusal('fd00:1::5', policy), undefined);
    assert.match(addressRefusal('10.21.0.1', policy)!, /^private; /);
    assert.match(addressRefusal('127.0.0.1', policy)!, /^loopback; /);
    assert.match(addressRefusal('fd00:2::1', policy)!, /^unique-local; /);
    assert.match(addressRefusal('169.254.169.254', policy)!, /^link-local; /);
  });
  it('match IPv4-mapped IPv6 against the IPv4 networks', () => {
    assert.equal(addressRefusal('::ffff:127.0.0.2', policy), undefined);
    assert.equal(addressRefusal('::ffff:10.20.0.9', policy), undefined);
    assert.match(addressRefusal('::ffff:127.0.0.1', policy)!, /loopback \(IPv4 inside IPv6\)/);
  });
  it('allowPrivateNetworks lets everything through', () => {
    for (const a of ['127.0.0.1', '::1', '169.254.169.254', '0.0.0.0']) {
      assert.equal(addressRefusal(a, { allowPrivateNetworks: true }), undefined, a);
    }
  });
  it('bad CIDRs are a coded configuration error', () => {
    assert.equal(
      code(() => parseNetworks(['10.0.0.0/8', 'nonsense'])),
      'CLIPSTREAM_BAD_CONFIG',
    );
  });
  it('CLIPSTREAM_ALLOWED_NETWORKS is read as a comma-separated CIDR list and checked', () => {
    const c = loadConfig({}, { CLIPSTREAM_ALLOWED_NETWORKS: ' 10.20.0.0/16, 127.0.0.2/32 ,' });
    assert.deepEqual(c.allowedNetworks, ['10.20.0.0/16', '127.0.0.2/32']);
    assert.deepEqual(loadConfig({}, {}).allowedNetworks, []);
    assert.equal(
      code(() => loadConfig({}, { CLIPSTREAM_ALLOWED_NETWORKS: '10.0.0.0' })),
      'CLIPSTREAM_BAD_CONFIG',
    );
    assert.equal(sourcePolicyFor('worker', c).allowedNetworks?.length, 2);
  });
});

describe('resolveRtsp: resolve once, check, hand ffmpeg the address literal', () => {
  const dns: Record<string, string[]> = {
    'cam.example': ['93.184.216.34', '93.184.216.35'],
    'cam6.example': ['2606:4700:4700::1111'],
    'inside.example': ['10.0.0.7'],
  };
  let asked: string[] = [];
  const lookup: Lookup = async (h) => {
    asked.push(h);
    const a = dns[h];
    if (!a) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  const policy: SourcePolicy = { allowPrivateNetworks: false, lookup };

  it('keeps user, port, path and query, and swaps the host for the first checked address', async () => {
    asked = [];
    const r = await resolveRtsp('rtsp://user:pw@Cam.Example:8554/live/1?token=a', policy);
    assert.equal(r.kind, 'rtsp');
    assert.equal(r.input, 'rtsp://user:pw@93.184.216.34:8554/live/1?token=a');
    assert.deepEqual(asked, ['cam.example']);
  });
  it('brackets IPv6 literals and keeps rtsps', async () => {
    const r = await resolveRtsp('rtsps://cam6.example/live', policy);
    assert.equal(r.input, 'rtsps://[2606:4700:4700::1111]/live');
  });
  it('normalises numeric spellings without asking DNS', async () => {
    asked = [];
    await rejectsWith(
      resolveRtsp('rtsp://2130706433/live', policy),
      'CLIPSTREAM_URI_REFUSED',
      /127\.0\.0\.1.*loopback/,
    );
    assert.deepEqual(asked, []);
  });
  it('refuses private answers unless allowed', async () => {
    await rejectsWith(
      resolveRtsp('rtsp://inside.example/x', policy),
      'CLIPSTREAM_URI_REFUSED',
      /10\.0\.0\.7 \(private/,
    );
    const r = await resolveRtsp('rtsp://inside.example/x', { ...policy, allowedNetworks: ['10.0.0.0/24'] });
    assert.equal(r.input, 'rtsp://10.0.0.7/x');
  });
  it('RTP over UDP only when the policy allows it, and never for rtsps', async () => {
    asked = [];
    await rejectsWith(resolveRtsp('rtsp://cam.example/x', policy, 'udp'), 'CLIPSTREAM_URI_REFUSED', /UDP/);
    assert.deepEqual(asked, [], 'refused before any lookup');
    const udp = { ...policy, allowRtspUdp: true };
    const r = await resolveRtsp('rtsp://cam.example/x', udp, 'udp');
    assert.equal(r.rtspTransport, 'udp');
    assert.equal((await resolveRtsp('rtsp://cam.example/x', udp)).rtspTransport, undefined);
    await rejectsWith(resolveRtsp('rtsps://cam.example/x', udp, 'udp'), 'CLIPSTREAM_BAD_URI', /TLS/);
    assert.equal(sourcePolicyFor('worker', { allowPrivateNetworks: false }).allowRtspUdp, false);
    assert.equal(
      sourcePolicyFor('worker', { allowPrivateNetworks: false, allowRtspUdp: true }).allowRtspUdp,
      true,
    );
  });
  it('refuses other schemes, and resolveSource refuses rtsp (a live source is a stream)', async () => {
    await rejectsWith(resolveRtsp('http://cam.example/x', policy), 'CLIPSTREAM_BAD_URI');
    await rejectsWith(resolveSource('rtsp://cam.example/x', policy), 'CLIPSTREAM_BAD_URI');
  });
});
