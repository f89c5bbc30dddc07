// dib-pypi chroot on a real Debian bookworm root (debootstrap), offline (unshare --net), with a mirror the test builds.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, cleanEnv, runCli } from '../../helpers/cli.js';
import { debootstrapProblem, makeBookwormRoot } from '../../helpers/debootstrap-root.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';
import { mountsAtOrBelow } from '../../../src/fs/mounts.js';

async function makeMirror(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-chroot-mirror-'));
  mkdirSync(join(dir, 'app-core'));
  await makeWheel(join(dir, 'app-core'), { name: 'App.Core', version: '1.0', requires: ['Zope.Interface_Thing>=2'] });
  await makeWheel(dir, { name: 'Zope.Interface_Thing', version: '2.1' });
  mkdirSync(join(dir, 'only-sdist'));
  makeSdist(join(dir, 'only-sdist'), { name: 'only-sdist', version: '0.5' });
  assert.equal(runCli(['mirror', 'index', dir]).status, 0);
  return dir;
}

const mountsUnder = mountsAtOrBelow;

/** The tree as the test compares it: /proc, /dev and /sys are mount points whose contents are the host's. */
function listing(root: string): string[] {
  return listTree(root).filter((line) => !/^"(proc|dev|sys)\//.test(line));
}

/** dib-pypi chroot, offline: in a new network namespace with nothing but a down loopback. */
function chrootOffline(root: string, state: string, mirror: string, command: string[]) {
  const args = ['--net', '--', process.execPath, '--', BIN, 'chroot', root, '--state-dir', state, '--mirror', mirror, '--offline', '--', ...command];
  return spawnSync('unshare', args, { env: cleanEnv(), encoding: 'utf8' });
}

function available(t: import('node:test').TestContext): boolean {
  return need(t, isRoot, 'needs root (chroot, mounts)') && need(t, debootstrapProblem() === undefined, debootstrapProblem() ?? '');
}

interface Fixture {
  root: string;
  mirror: string;
  state: string;
}

/** A fresh bookworm root, a mirror and a state directory for one test (skipped without root or debootstrap); all removed after. */
async function withChrootFixture(t: import('node:test').TestContext, body: (fixture: Fixture) => Promise<void> | void): Promise<void> {
  if (!available(t)) return;
  await using root = await makeBookwormRoot();
  const mirror = await makeMirror();
  const state = mkdtempSync(join(tmpdir(), 'dib-pypi-chroot-state-'));
  try {
    await body({ root: root.root, mirror, state });
  } finally {
    rmSync(mirror, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

/** Wait (up to 10 s) until the mirror is mounted inside `root`. */
async function mirrorMounted(root: string): Promise<void> {
  for (let i = 0; i < 100 && !mountsUnder(root).some((m) => m.endsWith('/tmp/pypi')); i++) await new Promise((r) => setTimeout(r, 100));
}

describe('dib-pypi chroot', () => {
  test('installs offline from the mirror at file:///tmp/pypi, then leaves the root as it was', async (t) => {
    await withChrootFixture(t, async ({ root, mirror, state }) => {
      const before = listing(root);
      const result = chrootOffline(root, state, mirror, [
        'python3',
        '-m',
        'pip',
        'install',
        '--no-cache-dir',
        '--break-system-packages',
        '--no-build-isolation',
        'APP_core',
        'only.sdist',
      ]);
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /Looking in indexes: file:\/\/\/tmp\/pypi/);
      assert.match(result.stdout, /Successfully installed app-core-1\.0 only-sdist-0\.5 zope-interface-thing-2\.1|Successfully installed .*app[-_.]core-1\.0/i);
      assert.deepEqual(mountsUnder(root), [], 'something is still mounted under the root');
      const imported = spawnSync('chroot', [root, 'python3', '-c', 'import app_core, zope_interface_thing, only_sdist; print("ok")'], { encoding: 'utf8' });
      assert.equal(imported.stdout.trim(), 'ok', imported.stderr);
      // the config and the mount point are gone; only pip's install (and its bytecode) changed the tree
      const after = listing(root);
      const changed = after.filter((line) => !before.includes(line)).map((l) => l.split(' ')[0]);
      assert.ok(!changed.some((p) => /pip\.conf|pydistutils|"tmp\/pypi/.test(p as string)), changed.join('\n'));
      assert.ok(
        changed.some((p) => /dist-packages\/app_core/.test(p as string)),
        'the package was not installed',
      );
    });
  });

  test("CMD's exit code is dib-pypi's, and a failing CMD still restores and unmounts", async (t) => {
    await withChrootFixture(t, async ({ root, mirror, state }) => {
      const before = listing(root);
      const result = chrootOffline(root, state, mirror, ['sh', '-c', 'test -f /etc/pip.conf && test -f /tmp/pypi/index.html && exit 7']);
      assert.equal(result.status, 7, result.stderr);
      assert.deepEqual(mountsUnder(root), []);
      assert.deepEqual(listing(root), before);
      const failing = chrootOffline(root, state, mirror, ['python3', '-m', 'pip', 'install', '--no-cache-dir', '--break-system-packages', 'no-such-project']);
      assert.equal(failing.status, 1);
      assert.deepEqual(mountsUnder(root), []);
      assert.deepEqual(listing(root), before);
    });
  });

  test("--json: one object on stdout (command, exit code, mounts, what was configured and restored); CMD's output on stderr", async (t) => {
    await withChrootFixture(t, async ({ root, mirror, state }) => {
      const before = listing(root);
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
        '--offline',
        '--json',
        '--',
        'sh',
        '-c',
        'echo from-cmd; exit 3',
      ];
      const result = spawnSync('unshare', args, { env: cleanEnv(), encoding: 'utf8' });
      assert.equal(result.status, 3, result.stderr);
      assert.match(result.stderr, /^from-cmd$/m);
      const report = JSON.parse(result.stdout) as {
        command: string[];
        root: string;
        exitCode: number;
        mounts: { target: string; kind: string; source?: string }[];
        configured: string[];
        restored: string[];
        warnings: string[];
      };
      assert.deepEqual(report.command, ['sh', '-c', 'echo from-cmd; exit 3']);
      assert.equal(report.root, root);
      assert.equal(report.exitCode, 3);
      assert.deepEqual(report.mounts, [
        { target: '/proc', kind: 'proc' },
        { target: '/dev', kind: 'bind', source: '/dev' },
        { target: '/dev/pts', kind: 'bind', source: '/dev/pts' },
        { target: '/tmp/pypi', kind: 'bind-ro', source: mirror },
      ]);
      assert.ok(report.configured.includes('/etc/pip.conf'), report.configured.join(' '));
      assert.ok(report.restored.includes('/etc/pip.conf'), report.restored.join(' '));
      assert.ok(report.restored.includes('unmounted /tmp/pypi'), report.restored.join(' '));
      assert.deepEqual(report.warnings, []);
      assert.deepEqual(mountsUnder(root), []);
      assert.deepEqual(listing(root), before);
    });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} reaches CMD; the root is restored and unmounted`, async (t) => {
      await withChrootFixture(t, async ({ root, mirror, state }) => {
        const before = listing(root);
        const child = spawn(process.execPath, ['--', BIN, 'chroot', root, '--state-dir', state, '--mirror', mirror, '--', 'sleep', '60'], {
          env: cleanEnv(),
          stdio: 'ignore',
        });
        const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
        await mirrorMounted(root);
        assert.ok(mountsUnder(root).length > 0, 'the mirror was never mounted');
        await new Promise((r) => setTimeout(r, 300));
        child.kill(signal);
        const code = await exited;
        assert.equal(code, signal === 'SIGINT' ? 130 : 143);
        assert.deepEqual(mountsUnder(root), []);
        assert.deepEqual(listing(root), before);
      });
    });
  }

  test('after dib-pypi itself is killed (SIGKILL), restore --root unmounts and restores', async (t) => {
    await withChrootFixture(t, async ({ root, mirror, state }) => {
      const before = listing(root);
      const child = spawn(process.execPath, ['--', BIN, 'chroot', root, '--state-dir', state, '--mirror', mirror, '--', 'sleep', '3'], {
        env: cleanEnv(),
        stdio: 'ignore',
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await mirrorMounted(root);
      child.kill('SIGKILL');
      await exited;
      await new Promise((r) => setTimeout(r, 3500)); // let the orphaned sleep end
      assert.ok(mountsUnder(root).length > 0, 'expected the killed run to leave its mounts');
      const restored = runCli(['restore', '--root', root, '--state-dir', state]);
      assert.equal(restored.status, 0, restored.stderr);
      assert.match(restored.stdout, /unmounted \/tmp\/pypi/);
      assert.deepEqual(mountsUnder(root), []);
      assert.deepEqual(listing(root), before);
    });
  });

  test('usage: DIR and CMD are required; a missing --mirror directory is bad input', () => {
    assert.equal(runCli(['chroot']).status, 2);
    assert.equal(runCli(['chroot', '/']).status, 2);
    const result = runCli(['chroot', '/', '--mirror', '/nonexistent/mirror', '--', 'true']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--mirror: not a directory: "\/nonexistent\/mirror"/);
  });
});
