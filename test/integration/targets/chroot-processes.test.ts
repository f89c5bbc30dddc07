// After `dib-pypi chroot` is killed (SIGKILL), processes it started may still run inside the root: restore reports them, refuses to half-restore, and --kill-processes stops them first.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, cleanEnv, runCli } from '../../helpers/cli.js';
import { makeTempRoot, type FixtureRoot } from '../../helpers/fixture-root.js';
import { isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';
import { mountsAtOrBelow } from '../../../src/fs/mounts.js';
import { stateDirOf } from '../../../src/inject/journal-file.js';
import { processesInRoot } from '../../../src/inject/root-processes.js';
import { isAlive } from '../../helpers/wait.js';

/** Copy a host binary and the shared libraries ldd lists into the same paths inside `root`. */
function copyWithLibraries(root: string, binary: string, as: string): void {
  const place = (from: string, to: string) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    copyFileSync(from, join(root, to));
    chmodSync(join(root, to), 0o755);
  };
  place(binary, as);
  const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' });
  for (const match of ldd.stdout.matchAll(/(\/\S+) \(0x/g)) place(match[1] as string, match[1] as string);
}

/** A root holding just a shell and sleep: enough for `dib-pypi chroot` and a process that stays. */
function makeSleepRoot(): FixtureRoot {
  const f = makeTempRoot('dib-pypi-procs-');
  copyWithLibraries(f.root, '/bin/sh', '/bin/sh');
  copyWithLibraries(f.root, '/bin/sleep', '/bin/sleep');
  mkdirSync(join(f.root, 'etc'));
  writeFileSync(join(f.root, 'etc/hostname'), 'image\n');
  writeFileSync(join(f.outside, 'index.html'), '<html></html>');
  return f;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Start `dib-pypi chroot ROOT -- sh -c SCRIPT`, wait for its sleep to run inside the root, then SIGKILL dib-pypi. Returns the sleep's pid. */
async function killChrootLeavingSleep(f: FixtureRoot, script: string): Promise<number> {
  const child = spawn(process.execPath, ['--', BIN, 'chroot', f.root, '--state-dir', f.state, '--mirror', f.outside, '--offline', '--', 'sh', '-c', script], {
    env: cleanEnv(),
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await until(() => processesInRoot(f.root).some((p) => p.comm === 'sleep'), 'sleep inside the root');
  child.kill('SIGKILL');
  await exited;
  const sleeper = processesInRoot(f.root).find((p) => p.comm === 'sleep');
  assert.ok(sleeper, 'the sleep died with dib-pypi');
  return sleeper.pid;
}

function available(t: import('node:test').TestContext): boolean {
  return need(t, isRoot, 'needs root (chroot, mounts)') && need(t, spawnSync('ldd', ['--version']).status === 0, 'needs ldd');
}

describe('processes left inside the root after dib-pypi chroot was killed', () => {
  test('one holding the mirror mount: restore refuses with nothing changed; --kill-processes stops it and restores byte for byte', async (t) => {
    if (!available(t)) return;
    using f = makeSleepRoot();
    const before = listTree(f.root);
    const pid = await killChrootLeavingSleep(f, 'cd /tmp/pypi && exec sleep 300');
    try {
      const mounts = mountsAtOrBelow(f.root);
      assert.ok(
        mounts.some((m) => m.endsWith('/tmp/pypi')),
        'the killed run left no mounts',
      );
      const journal = join(stateDirOf(f.state, f.root), 'journal');
      const journalBefore = readFileSync(journal);
      const etcBefore = listTree(join(f.root, 'etc'));

      const refused = runCli(['restore', '--root', f.root, '--state-dir', f.state]);
      assert.equal(refused.status, 1, refused.stdout + refused.stderr);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(
          `^dib-pypi: error: cannot restore ${f.root}: process ${pid} \\(sleep\\) still runs inside it and holds /tmp/pypi; nothing was changed\\. Stop them, or run: dib-pypi restore --root ${f.root} --kill-processes\\n$`,
        ),
      );
      assert.deepEqual(mountsAtOrBelow(f.root), mounts, 'a mount went');
      assert.deepEqual(readFileSync(journal), journalBefore, 'the journal changed');
      assert.deepEqual(listTree(join(f.root, 'etc')), etcBefore, 'the root changed');
      assert.ok(isAlive(pid));

      const restored = runCli(['restore', '--root', f.root, '--state-dir', f.state, '--kill-processes']);
      assert.equal(restored.status, 0, restored.stderr);
      assert.match(restored.stderr, new RegExp(`warning: stopped ${pid} \\(sleep\\), running inside ${f.root}`));
      assert.match(restored.stdout, /unmounted \/tmp\/pypi/);
      assert.ok(!isAlive(pid) || processesInRoot(f.root).length === 0, 'the sleep still runs');
      assert.deepEqual(mountsAtOrBelow(f.root), []);
      assert.deepEqual(listTree(f.root), before);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });

  test('one holding no mount: restore reports it and restores byte for byte', async (t) => {
    if (!available(t)) return;
    using f = makeSleepRoot();
    const before = listTree(f.root);
    const pid = await killChrootLeavingSleep(f, 'exec sleep 300');
    try {
      const restored = runCli(['restore', '--root', f.root, '--state-dir', f.state]);
      assert.equal(restored.status, 0, restored.stderr);
      assert.match(
        restored.stderr,
        new RegExp(`warning: still running inside ${f.root}: ${pid} \\(sleep\\); they may change it again \\(dib-pypi restore --kill-processes stops them\\)`),
      );
      assert.ok(isAlive(pid), 'restore stopped a process without being asked');
      assert.deepEqual(mountsAtOrBelow(f.root), []);
      assert.deepEqual(listTree(f.root), before);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('processes CMD leaves behind', () => {
  test('one holding a mount: dib-pypi chroot restores nothing, says so in one line; restore --kill-processes finishes', async (t) => {
    if (!available(t)) return;
    using f = makeSleepRoot();
    const before = listTree(f.root);
    const result = spawnSync(
      process.execPath,
      [
        '--',
        BIN,
        'chroot',
        f.root,
        '--state-dir',
        f.state,
        '--mirror',
        f.outside,
        '--offline',
        '--',
        'sh',
        '-c',
        'cd /tmp/pypi && sleep 300 >/dev/null 2>&1 &',
      ],
      {
        env: cleanEnv(),
        encoding: 'utf8',
      },
    );
    const sleeper = processesInRoot(f.root).find((p) => p.comm === 'sleep');
    try {
      assert.ok(sleeper, 'no sleep left inside the root');
      assert.equal(result.status, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(
          `^dib-pypi: error: cannot restore ${f.root}: process ${sleeper.pid} \\(sleep\\) still runs inside it and holds (/dev, )?/tmp/pypi; nothing was changed\\. Stop them, or run: dib-pypi restore --root ${f.root} --kill-processes\\n$`,
          'm',
        ),
      );
      assert.ok(
        mountsAtOrBelow(f.root).some((m) => m.endsWith('/tmp/pypi')),
        'half-restored: the mirror was unmounted',
      );
      const restored = runCli(['restore', '--root', f.root, '--state-dir', f.state, '--kill-processes']);
      assert.equal(restored.status, 0, restored.stderr);
      assert.deepEqual(mountsAtOrBelow(f.root), []);
      assert.deepEqual(listTree(f.root), before);
    } finally {
      if (sleeper !== undefined && isAlive(sleeper.pid)) process.kill(sleeper.pid, 'SIGKILL');
    }
  });
});

describe('restore on a path that is not there', () => {
  test('one line naming it, never a stack trace', () => {
    for (const args of [
      ['restore', '--root', '/no/such/path'],
      ['restore', '--root', '/no/such/path', '--kill-processes'],
    ]) {
      const result = runCli(args);
      assert.equal(result.status, 2);
      assert.equal(result.stderr, 'dib-pypi: error: --root: cannot use "/no/such/path": no such directory\n');
    }
    using f = makeTempRoot();
    writeFileSync(join(f.base, 'file'), '');
    const notDir = runCli(['restore', '--root', join(f.base, 'file')]);
    assert.equal(notDir.status, 2);
    assert.equal(notDir.stderr.trim().split('\n').length, 1, notDir.stderr);
    const badState = runCli(['restore', '--root', f.root, '--state-dir', '/proc/no-such-dir']);
    assert.equal(badState.status, 1);
    assert.equal(badState.stderr, 'dib-pypi: error: cannot create the state directory /proc/no-such-dir: ENOENT\n');
  });
});
