// A user inside a root cannot steer a root dib-pypi outside it: not by swapping a directory they own for a
// symlink while configure and restore work in it, not by owning or linking the mirror's mount point.
//
// The swap race is probabilistic: the attacker trades ~/.pip and a symlink to a root-owned host directory
// with renameat2(RENAME_EXCHANGE) every 2 ms while configure and restore run in a loop. Before configure
// and restore reached entries through a pinned parent descriptor (src/fs/pinned-dir.ts), the old code
// wrote or removed a file in the host directory in 10 of 10 runs of this test (typically within the
// first few cycles); with the fix it never does.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { asAttacker, attacker, attackerAvailable, startSwapper } from '../../helpers/attacker.js';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeTempRoot } from '../../helpers/fixture-root.js';
import { hasCommand, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';

const MIRROR_URL = ['--mirror-url', 'http://127.0.0.1:9/simple'];
const CYCLES = 30;
const BUDGET_MS = 20_000;

/** Mount points (from the kernel's table) at or below a path. */
function mountsUnder(path: string): string[] {
  const out = spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((p) => p === path || p.startsWith(path + '/'));
}

/** A root-owned host directory outside every root: what the attacker wants root to write into. */
function makeVictim(): { dir: string; [Symbol.dispose]: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-victim-'));
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'host-file'), 'host data\n');
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('a user who owns a directory inside the root', () => {
  test('cannot make configure or restore write outside the root by swapping it for a symlink', async (t) => {
    if (!attackerAvailable(t) || !need(t, hasCommand('python3'), 'needs python3 (the swapper)')) return;
    const { uid, gid } = attacker();
    using f = makeTempRoot();
    using victim = makeVictim();
    chmodSync(f.base, 0o755); // the user reaches the root (their home inside it)
    const home = join(f.root, 'home/u');
    mkdirSync(join(home, '.pip'), { recursive: true });
    mkdirSync(join(f.root, 'etc'));
    writeFileSync(join(home, '.pip/pip.conf'), '[global]\nindex-url = http://image.example/simple\n');
    for (const p of [home, join(home, '.pip'), join(home, '.pip/pip.conf')]) chownSync(p, uid, gid);
    asAttacker('ln -s "$1" "$2"', [victim.dir, join(home, '.pipx')]);
    const before = listTree(victim.dir);
    const outsideBefore = listTree(f.outside);
    const args = ['--root', f.root, '--state-dir', f.state];

    const swapper = await startSwapper(join(home, '.pip'), join(home, '.pipx'));
    let cycles = 0;
    let changed: string | undefined;
    const started = Date.now();
    try {
      while (cycles < CYCLES && Date.now() - started < BUDGET_MS && changed === undefined) {
        cycles++;
        // Either may refuse (exit 1, "now a symlink") when it sees the swap: what matters is where it writes.
        runCli(['configure', ...args, '--home', '/home/u', '--offline', ...MIRROR_URL], { env: cleanEnv() });
        runCli(['restore', ...args], { env: cleanEnv() });
        const now = listTree(victim.dir);
        if (JSON.stringify(now) !== JSON.stringify(before)) changed = `cycle ${cycles}: ${JSON.stringify(now)}`;
      }
    } finally {
      await swapper.stop();
    }
    // Quiet now: a restore left over by a refused attempt finishes.
    const last = runCli(['restore', ...args], { env: cleanEnv() });
    assert.equal(last.status, 0, `final restore: ${last.stderr}`);
    assert.equal(changed, undefined, `the host directory changed: ${changed}`);
    assert.deepEqual(listTree(victim.dir), before, 'the host directory changed');
    assert.deepEqual(listTree(f.outside), outsideBefore);
    assert.ok(lstatSync(join(home, '.pip')).isDirectory() && !lstatSync(join(home, '.pipx')).isDirectory());
    assert.ok(cycles > 0);
  });
});

describe('the mirror mount point', () => {
  function rootWithTmp(f: { base: string; root: string }): string {
    chmodSync(f.base, 0o755); // the user reaches the root (its /tmp)
    mkdirSync(join(f.root, 'etc'));
    writeFileSync(join(f.root, 'etc/hostname'), 'image\n');
    const tmp = join(f.root, 'tmp');
    mkdirSync(tmp);
    chmodSync(tmp, 0o1777);
    return tmp;
  }

  function assertRefusedUntouched(f: { root: string; state: string; outside: string }, before: string[], what: RegExp): void {
    const result = runCli(['configure', '--root', f.root, '--state-dir', f.state, '--offline', '--mirror', f.outside], { env: cleanEnv() });
    assert.equal(result.status, 1, `expected a refusal: ${result.stdout}${result.stderr}`);
    const lines = result.stderr
      .trim()
      .split('\n')
      .filter((l) => !/warning/.test(l));
    assert.equal(lines.length, 1, `one line: ${result.stderr}`);
    assert.match(lines[0] as string, what);
    assert.deepEqual(mountsUnder(f.root), [], 'something was mounted in the root');
    assert.deepEqual(listTree(f.root), before, 'the root changed');
    // No journal left that restore would refuse: restore has nothing to do and succeeds.
    const restored = runCli(['restore', '--root', f.root, '--state-dir', f.state], { env: cleanEnv() });
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(listTree(f.root), before);
  }

  test('a symlink /tmp/pypi -> /etc is refused before anything changes', (t) => {
    if (!attackerAvailable(t) || !need(t, hasCommand('findmnt'), 'needs findmnt')) return;
    using f = makeTempRoot();
    const tmp = rootWithTmp(f);
    asAttacker('ln -s /etc "$1"', [join(tmp, 'pypi')]);
    const before = listTree(f.root);
    const mountsBefore = mountsUnder('/');
    assertRefusedUntouched(f, before, /refusing to mount on \/tmp\/pypi .*\/tmp\/pypi is a symlink/);
    assert.deepEqual(mountsUnder('/'), mountsBefore, 'the mount table changed');
  });

  test('a /tmp/pypi owned by a user is refused, even while that user swaps it with a link to a host directory', async (t) => {
    if (!attackerAvailable(t) || !need(t, hasCommand('findmnt') && hasCommand('python3'), 'needs findmnt and python3')) return;
    using f = makeTempRoot();
    using victim = makeVictim();
    const tmp = rootWithTmp(f);
    asAttacker('mkdir "$1"; ln -s "$2" "$3"', [join(tmp, 'pypi'), victim.dir, join(tmp, 'pypix')]);
    const before = listTree(f.root);
    assertRefusedUntouched(f, before, /refusing to mount on \/tmp\/pypi .*owned by uid \d+, not root/);
    const swapper = await startSwapper(join(tmp, 'pypi'), join(tmp, 'pypix'));
    try {
      for (let i = 0; i < 10; i++) {
        const result = runCli(['configure', '--root', f.root, '--state-dir', f.state, '--offline', '--mirror', f.outside], { env: cleanEnv() });
        assert.equal(result.status, 1, `configure accepted a user's mount point: ${result.stdout}${result.stderr}`);
        assert.deepEqual(mountsUnder(victim.dir), [], 'the host directory was mounted over');
        assert.deepEqual(mountsUnder(f.root), []);
      }
    } finally {
      await swapper.stop();
    }
    // The attacker's own renames change /tmp's mtime; everything else is as it was.
    const withoutTmp = (lines: string[]) => lines.filter((l) => !l.startsWith('"tmp" '));
    assert.deepEqual(withoutTmp(listTree(f.root)), withoutTmp(before));
  });

  test("the pinned mount lands on the root's own /tmp/pypi, read-only, and restore removes it", (t) => {
    if (!attackerAvailable(t) || !need(t, hasCommand('findmnt'), 'needs findmnt')) return;
    using f = makeTempRoot();
    rootWithTmp(f);
    const before = listTree(f.root);
    const result = runCli(['configure', '--root', f.root, '--state-dir', f.state, '--offline', '--mirror', f.outside], { env: cleanEnv() });
    assert.equal(result.status, 0, result.stderr);
    const point = join(f.root, 'tmp/pypi');
    assert.deepEqual(mountsUnder(f.root), [point]);
    const options = spawnSync('findmnt', ['-rn', '-o', 'OPTIONS', point], { encoding: 'utf8' }).stdout;
    assert.match(options, /(^|,)ro(,|$)/);
    assert.equal(statSync(point).ino, statSync(f.outside).ino, 'the mount is not the mirror');
    assert.ok(existsSync(join(point, 'host-file')));
    const restored = runCli(['restore', '--root', f.root, '--state-dir', f.state], { env: cleanEnv() });
    assert.equal(restored.status, 0, restored.stderr);
    assert.deepEqual(mountsUnder(f.root), []);
    assert.deepEqual(listTree(f.root), before);
    assert.deepEqual(readdirSync(join(f.root, 'tmp')), []);
  });
});
