// The DIB harness: the real disk-image-create (Debian's python3-diskimage-builder) builds a tar
// image offline from the cached bookworm root in seconds; in-chroot hooks run, planted files land,
// a failing hook fails the build and DIB unmounts what it mounted; upstream's pypi element works.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { mountsAtOrUnder } from '../../helpers/debootstrap-root.js';
import {
  BASE_ELEMENT,
  buildImage,
  dibProblem,
  isBuildNoise,
  listTar,
  loopDevicesUnder,
  sha256Of,
  stableListing,
  upstreamPypiElement,
  writeElement,
  type BuiltImage,
  type TarEntry,
} from '../../helpers/dib.js';
import { makeWheel, writeSimpleIndex } from '../../helpers/make-dist.js';
import { makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';

// The first build on a machine also makes the cached bookworm root (debootstrap, about a minute).
const LONG = { timeout: 15 * 60_000 };

function canRun(t: TestContext): boolean {
  const problem = dibProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

function entry(listing: Map<string, TarEntry>, path: string): TarEntry {
  const found = listing.get(path);
  assert.ok(found !== undefined, `${path} is not in the image`);
  return found;
}

function report(t: TestContext, what: string, build: BuiltImage): void {
  t.diagnostic(`${what}: disk-image-create exit ${build.exitCode} after ${build.seconds.toFixed(1)} s`);
}

/** DIB's log, for an assertion message. */
function tail(build: BuiltImage, lines = 60): string {
  return build.log.split('\n').slice(-lines).join('\n');
}

test('listTar reads what GNU tar writes (gnu and posix formats): types, modes, owners, long names, links, sha256', async () => {
  await using dir = makeTempDir('dib-pypi-listtar-');
  const tree = join(dir.path, 'tree');
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(70)}.txt`;
  mkdirSync(join(tree, 'etc/app'), { recursive: true });
  mkdirSync(join(tree, long, '..'), { recursive: true });
  writeFileSync(join(tree, 'etc/app/conf'), 'a = 1\n', { mode: 0o640 });
  writeFileSync(join(tree, long), 'long\n');
  writeFileSync(join(tree, 'empty'), '');
  writeFileSync(join(tree, 'suid'), '#!/bin/sh\n', { mode: 0o4755 });
  spawnSync('chmod', ['4755', join(tree, 'suid')]);
  symlinkSync('../etc/app/conf', join(tree, 'etc/link'));
  linkSync(join(tree, 'etc/app/conf'), join(tree, 'hard'));
  assert.equal(spawnSync('mkfifo', [join(tree, 'fifo')]).status, 0);
  for (const format of ['gnu', 'posix']) {
    const tar = join(dir.path, `${format}.tar`);
    const made = spawnSync('tar', [`--format=${format}`, '--numeric-owner', '--owner=0', '--group=42', '-C', tree, '-cf', tar, '.'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const listing = await listTar(tar);
    assert.deepEqual(
      listing.get('/etc/app/conf'),
      { ...listing.get('/etc/app/conf'), type: 'file', mode: 0o640, size: 6, uid: 0, gid: 42, sha256: sha256Of('a = 1\n') },
      format,
    );
    assert.equal(listing.get(`/${long}`)?.sha256, sha256Of('long\n'), format);
    assert.equal(listing.get('/empty')?.sha256, sha256Of(''), format);
    assert.equal(listing.get('/suid')?.mode, 0o4755, format);
    assert.deepEqual([listing.get('/etc/link')?.type, listing.get('/etc/link')?.linkname], ['symlink', readlinkSync(join(tree, 'etc/link'))], format);
    // GNU tar stores the second name of a hard-linked file as a link to the first one it met;
    // listTar gives both names as files with the content facts.
    const hard = listing.get('/hard');
    const conf = listing.get('/etc/app/conf');
    assert.deepEqual([hard?.type, hard?.sha256, hard?.size, hard?.mode], ['file', sha256Of('a = 1\n'), 6, 0o640], format);
    assert.equal([hard?.hardlinkTo, conf?.hardlinkTo].filter((p) => p !== undefined).length, 1, format);
    assert.equal(listing.get('/fifo')?.type, 'fifo', format);
    assert.equal(listing.get('/')?.type, 'dir', format);
    assert.equal(listing.get('/etc')?.type, 'dir', format);
    const gnuList = spawnSync('tar', ['-tf', tar], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.equal(listing.size, gnuList.length, format);
  }
});

test('disk-image-create builds a tar image from the cached bookworm root: install.d ran in the chroot, planted files are in it', LONG, async (t) => {
  if (!canRun(t)) return;
  await using elements = makeTempDir('dib-pypi-elements-');
  writeElement(elements.path, 'dib-pypi-test-marker', {
    // POSIX sh only: what our element's in-chroot hooks may rely on.
    'install.d/50-dib-pypi-test-marker': [
      '#!/bin/sh',
      'set -eu',
      'printf "marker from install.d\\n" > /root/dib-pypi-marker',
      '# The planted file was there before the in-chroot phases.',
      'cat /root/.pip/pip.conf > /root/dib-pypi-saw-pip.conf',
      '',
    ].join('\n'),
  });
  const pipConf = '[global]\ntimeout = 7\n';
  const distutils = '[easy_install]\nindex_url = https://example.invalid/simple\n';
  const deep = '#!/bin/sh\necho deep\n';

  await using build = await buildImage({
    elements: ['dib-pypi-test-marker'],
    extraElementsPaths: [elements.path],
    env: {},
    plant: {
      '/root/.pip/pip.conf': { content: pipConf, mode: 0o600 },
      '/root/.pydistutils.cfg': { content: distutils, mode: 0o640 },
      '/etc/dib-pypi-test/deep/run': { content: deep, mode: 0o755 },
    },
  });
  report(t, 'marker build', build);
  assert.equal(build.exitCode, 0, tail(build));
  assert.match(build.log, /Build completed successfully/);
  assert.deepEqual(build.mountsLeft, []);
  assert.deepEqual(build.loopsLeft, []);
  assert.ok(existsSync(build.tar), build.tar);

  const started = Date.now();
  const listing = await listTar(build.tar);
  t.diagnostic(`listTar: ${listing.size} entries in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const marker = entry(listing, '/root/dib-pypi-marker');
  assert.deepEqual(
    { type: marker.type, mode: marker.mode, uid: marker.uid, gid: marker.gid, sha256: marker.sha256 },
    { type: 'file', mode: 0o644, uid: 0, gid: 0, sha256: sha256Of('marker from install.d\n') },
  );
  assert.equal(entry(listing, '/root/dib-pypi-saw-pip.conf').sha256, sha256Of(pipConf));

  for (const [path, content, mode] of [
    ['/root/.pip/pip.conf', pipConf, 0o600],
    ['/root/.pydistutils.cfg', distutils, 0o640],
    ['/etc/dib-pypi-test/deep/run', deep, 0o755],
  ] as const) {
    const planted = entry(listing, path);
    assert.deepEqual(
      { type: planted.type, mode: planted.mode, uid: planted.uid, gid: planted.gid, size: planted.size, sha256: planted.sha256 },
      { type: 'file', mode, uid: 0, gid: 0, size: Buffer.byteLength(content), sha256: sha256Of(content) },
      path,
    );
  }
  // Planting made missing parents 0755 and left existing ones alone.
  assert.equal(entry(listing, '/root/.pip').mode, 0o755);
  assert.equal(entry(listing, '/etc/dib-pypi-test/deep').mode, 0o755);
  assert.equal(entry(listing, '/root').mode, 0o700);

  // It is the bookworm root, finished the way DIB finishes an image.
  assert.equal(entry(listing, '/').type, 'dir');
  assert.deepEqual([entry(listing, '/usr/bin/python3').type, entry(listing, '/usr/bin/python3').linkname], ['symlink', 'python3.11']);
  assert.ok(listing.has('/usr/lib/python3/dist-packages/pip/__init__.py'));
  assert.equal(entry(listing, '/usr/bin/passwd').mode & 0o4000, 0o4000);
  assert.equal(entry(listing, '/etc/shadow').gid, 42);
  assert.equal(entry(listing, '/etc/fstab').type, 'file', 'the block device layer writes /etc/fstab');
  assert.equal(entry(listing, '/etc/resolv.conf').size, 0, "DIB put the root's own resolv.conf back");
  assert.ok(!listing.has('/etc/resolv.conf.ORIG'));
  assert.deepEqual(
    [...listing.keys()].filter((p) => p.startsWith('/tmp/')),
    [],
    'DIB empties /tmp (no in_target.d)',
  );
  assert.deepEqual(
    [...listing.keys()].filter((p) => p.startsWith('/proc/') || p.startsWith('/sys/')),
    [],
  );
  assert.ok(!listing.has(`/${BASE_ELEMENT}`));

  const workDir = build.workDir;
  await build[Symbol.asyncDispose]();
  assert.ok(!existsSync(workDir), 'dispose removes the work dir');
});

test('two builds of the same elements give the same image, apart from the build noise isBuildNoise names', LONG, async (t) => {
  if (!canRun(t)) return;
  const listings = [];
  for (const round of [1, 2]) {
    await using build = await buildImage({ elements: [], extraElementsPaths: [], env: {} });
    report(t, `base-only build ${round}`, build);
    assert.equal(build.exitCode, 0, tail(build));
    listings.push(await listTar(build.tar));
  }
  const [first, second] = listings as [Map<string, TarEntry>, Map<string, TarEntry>];
  assert.deepEqual(stableListing(second), stableListing(first));
  // The noise is real: the host's device nodes are in the image (DIB tars with /dev bind-mounted).
  assert.ok([...first.keys()].some((p) => isBuildNoise(p) && p.startsWith('/dev/')));
  assert.ok(!first.has('/proc') && !first.has('/sys'), 'DIB excludes ./proc and ./sys, the directories included');
});

test('a failing install.d fails disk-image-create with its exit code, and DIB unmounts what it mounted', LONG, async (t) => {
  if (!canRun(t)) return;
  await using elements = makeTempDir('dib-pypi-elements-');
  writeElement(elements.path, 'dib-pypi-test-fail', {
    'install.d/50-dib-pypi-test-fail': '#!/bin/sh\necho "dib-pypi-test: failing on purpose" >&2\nexit 7\n',
  });
  await using build = await buildImage({ elements: ['dib-pypi-test-fail'], extraElementsPaths: [elements.path], env: {} });
  report(t, 'failing build', build);
  assert.equal(build.exitCode, 7, tail(build));
  assert.equal(build.timedOut, false);
  assert.match(build.log, /dib-pypi-test: failing on purpose/);
  assert.doesNotMatch(build.log, /Build completed successfully/);
  assert.ok(!existsSync(build.tar));
  // DIB's EXIT trap (trap_cleanup): /proc, /dev, /dev/pts, /sys and /tmp/in_target.d unmounted,
  // the block device layer cleaned up, its build and image dirs removed.
  assert.match(build.log, /Unmount .*\/mnt\/tmp\/in_target\.d/);
  assert.deepEqual(build.mountsLeft, []);
  assert.deepEqual(build.loopsLeft, []);
  assert.deepEqual(readdirSync(join(build.workDir, 'tmp')), []);
});

test("Debian's upstream pypi element works in the harness: a file:// mirror from DIB_IMAGE_CACHE, pip in install.d, pip.conf restored", LONG, async (t) => {
  if (!canRun(t)) return;
  const upstream = upstreamPypiElement();
  assert.ok(upstream !== undefined);
  t.diagnostic(`upstream pypi element: ${upstream}`);
  await using elements = makeTempDir('dib-pypi-elements-');
  await using cache = makeTempDir('dib-pypi-image-cache-');
  const mirror = join(cache.path, 'pypi', 'mirror');
  await makeWheel(mirror, { name: 'dib-pypi-demo', version: '1.0' });
  assert.deepEqual(writeSimpleIndex(mirror), ['dib-pypi-demo']);
  writeElement(elements.path, 'dib-pypi-test-pip-user', {
    'install.d/50-dib-pypi-test-pip-user': [
      '#!/bin/sh',
      'set -eu',
      'cat /root/.pip/pip.conf > /root/dib-pypi-saw-pip.conf',
      // --target: bookworm's pip refuses the system site-packages (PEP 668).
      'python3 -m pip install --no-cache-dir --target /opt/dib-pypi-demo dib-pypi-demo',
      '',
    ].join('\n'),
  });
  const original = '[global]\ntimeout = 7\n';
  await using build = await buildImage({
    elements: ['pypi', 'dib-pypi-test-pip-user'],
    extraElementsPaths: [elements.path],
    env: { DIB_IMAGE_CACHE: cache.path },
    args: ['--offline'],
    plant: {
      '/root/.pip/pip.conf': { content: original, mode: 0o644 },
      '/root/.pydistutils.cfg': { content: '[easy_install]\n', mode: 0o644 },
    },
  });
  report(t, 'upstream pypi build', build);
  assert.equal(build.exitCode, 0, tail(build));
  assert.match(build.log, new RegExp(`Copying hooks ${upstream}/pre-install.d/04-configure-pypi-mirror`));
  assert.match(build.log, /WARNING: You are using the pypi element but no pypi mirror is defined/);
  assert.match(build.log, /Looking in indexes: file:\/\/\/tmp\/pypi/);
  assert.match(build.log, /Successfully installed dib-pypi-demo-1\.0/);
  assert.deepEqual(build.mountsLeft, []);

  const listing = await listTar(build.tar);
  assert.ok(listing.has('/opt/dib-pypi-demo/dib_pypi_demo/__init__.py'));
  // What upstream wrote for the install (--offline: no public index; trusted-host of a file:// URL is None).
  assert.equal(
    entry(listing, '/root/dib-pypi-saw-pip.conf').sha256,
    sha256Of('[global]\nlog = /root/pip.log\nindex-url = file:///tmp/pypi\ntrusted-host =  None\n'),
  );
  // post-install put the user's pip.conf back; the user's .pydistutils.cfg stays renamed (upstream defect).
  assert.equal(entry(listing, '/root/.pip/pip.conf').sha256, sha256Of(original));
  assert.ok(!listing.has('/root/.pip/pip.conf.orig'));
  assert.ok(!listing.has('/root/.pydistutils.cfg'));
  assert.ok(listing.has('/root/.pydistutils.cfg.orig'));
  // DIB's finalise_base deletes /root/*.log, so upstream's /root/pip.log does not reach the image;
  // the mirror was unmounted by DIB's unmount_image and /tmp emptied.
  assert.ok(!listing.has('/root/pip.log'));
  assert.ok(!listing.has('/tmp/pypi'));
});

test('a build killed on timeout: the harness undoes the mounts DIB left and dispose removes everything', LONG, async (t) => {
  if (!canRun(t)) return;
  await using elements = makeTempDir('dib-pypi-elements-');
  writeElement(elements.path, 'dib-pypi-test-sleep', {
    'install.d/50-dib-pypi-test-sleep': '#!/bin/sh\necho "dib-pypi-test: sleeping"\nexec sleep 600\n',
  });
  const build = await buildImage({ elements: ['dib-pypi-test-sleep'], extraElementsPaths: [elements.path], env: {}, timeoutMs: 8000 });
  try {
    report(t, 'killed build', build);
    t.diagnostic(
      `left by the killed DIB: ${build.mountsLeft.length} mounts (${build.mountsLeft.map((m) => m.slice(build.workDir.length)).join(', ')}), ${build.loopsLeft.length} loop devices`,
    );
    assert.equal(build.timedOut, true);
    assert.equal(build.exitCode, 128 + 9);
    assert.deepEqual(mountsAtOrUnder(build.workDir), [], 'undone right after the kill');
    assert.deepEqual(loopDevicesUnder(build.workDir), []);
    // Nothing still runs in the chroot (the whole process group was killed: sudo, chroot, the hook).
    const inside = readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return readlinkSync(`/proc/${pid}/root`).startsWith(build.workDir);
        } catch {
          return false;
        }
      });
    assert.deepEqual(inside, []);
  } finally {
    await build[Symbol.asyncDispose]();
  }
  assert.ok(!existsSync(build.workDir));
});
