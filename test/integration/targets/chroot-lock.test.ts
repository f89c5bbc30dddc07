// dib-pypi chroot --lock on a real Debian bookworm root, offline: the lock is inside the root only while CMD runs and the root
// is given back byte for byte; the lock installs from its export; tampered bytes and an unpinned extra requirement fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { mountsAtOrBelow } from '../../../src/fs/mounts.js';
import { BIN, cleanEnv } from '../../helpers/cli.js';
import { debootstrapProblem, makeBookwormRoot } from '../../helpers/debootstrap-root.js';
import { type LockFixture, lockHashes, makeLockFixture } from '../../helpers/lock-fixture.js';
import { isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';

const work = mkdtempSync(join(tmpdir(), 'dib-pypi-chroot-lock-'));
const problem = !isRoot ? 'needs root (chroot, mounts)' : debootstrapProblem();
let fixture: LockFixture;

before(async () => {
  if (problem === undefined) fixture = await makeLockFixture(work);
});
after(() => rmSync(work, { recursive: true, force: true }));

/** The tree as compared: /proc, /dev and /sys are mount points whose contents are the host's. */
function listing(root: string): string[] {
  return listTree(root).filter((line) => !/^"(proc|dev|sys)\//.test(line));
}

/** dib-pypi chroot --lock, offline (a new network namespace). */
function chrootWithLock(root: string, mirror: string, command: string[]) {
  const state = mkdtempSync(join(work, 'state-'));
  const args = [
    '--net',
    '--',
    process.execPath,
    '--',
    BIN,
    'chroot',
    root,
    '--state-dir',
    state,
    '--mirror',
    mirror,
    '--lock',
    fixture.lock,
    '--offline',
    '--',
    ...command,
  ];
  const result = spawnSync('unshare', args, { env: cleanEnv(), encoding: 'utf8' });
  return { ...result, output: result.stdout + result.stderr };
}

const PIP = ['python3', '-m', 'pip', 'install', '--no-cache-dir', '--break-system-packages', '--no-build-isolation'];

describe('dib-pypi chroot --lock', { skip: problem !== undefined && !process.env.DIB_PYPI_REQUIRE_ALL ? problem : false }, () => {
  test('the lock and the hash-checking pip.conf are inside the root only while CMD runs; the root is then as it was', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    await using root = await makeBookwormRoot();
    const before = listing(root.root);
    const result = chrootWithLock(root.root, fixture.exported, ['sh', '-c', 'cat /tmp/pypi-requirements.lock && cat /etc/pip.conf']);
    assert.equal(result.status, 0, result.output);
    assert.equal(result.stdout.slice(0, readFileSync(fixture.lock, 'utf8').length), readFileSync(fixture.lock, 'utf8'), 'the exact bytes of the lock');
    assert.match(result.stdout, /require-hashes = true\nconstraint = \/tmp\/pypi-requirements\.lock\n/);
    assert.deepEqual(mountsAtOrBelow(root.root), []);
    assert.deepEqual(listing(root.root), before, 'the root is byte for byte as before');
  });

  test("the lock installs from its export; then no file in the root holds the lock's path or hashes; tampered bytes and an unpinned extra fail", async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    await using root = await makeBookwormRoot();
    const installed = chrootWithLock(root.root, fixture.exported, [...PIP, '-r', '/tmp/pypi-requirements.lock']);
    assert.equal(installed.status, 0, installed.output);
    assert.match(installed.stdout, /Successfully installed lock-app-1\.0 lock-dep-1\.0 lock-sdist-0\.1/);
    const hashes = lockHashes(readFileSync(fixture.lock, 'utf8'));
    const grep = spawnSync(
      'grep',
      [
        '-rlF',
        '--exclude-dir=proc',
        '--exclude-dir=dev',
        '--exclude-dir=sys',
        '-e',
        fixture.lock,
        '-e',
        'pypi-requirements',
        ...hashes.flatMap((h) => ['-e', h]),
        root.root,
      ],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(grep.status, 1, `found in: ${grep.stdout}${grep.stderr}`);

    const tampered = chrootWithLock(root.root, fixture.tampered, [...PIP, '--force-reinstall', '-r', '/tmp/pypi-requirements.lock']);
    assert.equal(tampered.status, 1, tampered.output);
    assert.match(tampered.output, /THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE[\s\S]*lock-dep==1\.0[\s\S]*Expected sha256/);
    const extra = chrootWithLock(root.root, fixture.mirror, [...PIP, '-r', '/tmp/pypi-requirements.lock', 'lock-extra']);
    assert.equal(extra.status, 1, extra.output);
    assert.match(extra.output, /In --require-hashes mode, all requirements must have their versions pinned with ==[\s\S]*lock-extra/);
    const value = spawnSync('chroot', [root.root, 'python3', '-c', 'import lock_dep; print(lock_dep.VALUE)'], { encoding: 'utf8' });
    assert.equal(value.stdout.trim(), '41', 'the locked lock-dep is still the one installed');
    assert.deepEqual(mountsAtOrBelow(root.root), []);
  });
});
