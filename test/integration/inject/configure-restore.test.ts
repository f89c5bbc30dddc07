// configure/restore on real temporary roots: byte-exact restore, idempotence, symlinks that try to leave the root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeBusyRoot, makeTempRoot, type FixtureRoot } from '../../helpers/fixture-root.js';
import { isRoot, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';

const MIRROR = ['--mirror-url', 'http://user:s3cret@127.0.0.1:8080/simple', '--mirror-url', 'file:///tmp/pypi'];

function configure(f: FixtureRoot, extra: string[] = []) {
  return runCli(['configure', '--root', f.root, '--state-dir', f.state, ...MIRROR, ...extra]);
}
function restore(f: FixtureRoot) {
  return runCli(['restore', '--root', f.root, '--state-dir', f.state]);
}
function assertOk(result: { status: number | null; stderr: string; stdout: string }, what: string) {
  assert.equal(result.status, 0, `${what} failed: ${result.stderr}${result.stdout}`);
}
/** No journal, backup or temp file anywhere: the state dir holds no root's journal, the root no temp. */
function assertNoLeftovers(f: FixtureRoot) {
  const roots = join(f.state, 'roots');
  if (existsSync(roots)) assert.deepEqual(readdirSync(roots), [], 'state directory still holds a journal');
  const temps = listTree(f.root).filter((line) => /\.tmp-\d+-\d+ /.test(line));
  assert.deepEqual(temps, [], 'temp files left in the root');
}

describe('configure then restore', () => {
  test('gives back a busy root byte for byte (content, mode, owner, mtime, parents)', () => {
    using f = makeBusyRoot();
    const before = listTree(f.root);
    const configured = configure(f);
    assertOk(configured, 'configure');
    assert.match(configured.stdout, /wrote \/etc\/xdg\/pip\/pip\.conf, \/etc\/pip\.conf, \/root\/\.pip\/pip\.conf, \/root\/\.pydistutils\.cfg/);
    const pipConf = readFileSync(join(f.root, 'etc/pip.conf'), 'utf8');
    assert.match(pipConf, /index-url = http:\/\/user:s3cret@127\.0\.0\.1:8080\/simple/);
    assert.equal(readFileSync(join(f.root, 'root/.pip/pip.conf'), 'utf8'), pipConf, 'the legacy user file is replaced too');
    assert.equal(lstatSync(join(f.root, 'root/.pip/pip.conf')).mode & 0o777, 0o600, 'a 0600 file stays 0600 while replaced');
    assert.ok(!configured.stdout.includes('s3cret') && !configured.stderr.includes('s3cret'), 'credentials printed');
    assert.match(configured.stderr, /home\/alice\/\.config\/pip\/pip\.conf sets \[install\] index-url/);
    assertOk(restore(f), 'restore');
    assert.deepEqual(listTree(f.root), before);
    assertNoLeftovers(f);
  });

  test("creates missing directories and removes them again, restoring the parents' mtimes", () => {
    using f = makeTempRoot();
    const before = listTree(f.root);
    assertOk(configure(f), 'configure');
    assert.ok(existsSync(join(f.root, 'etc/pip.conf')));
    assert.ok(existsSync(join(f.root, 'root/.pydistutils.cfg')));
    assertOk(restore(f), 'restore');
    assert.deepEqual(listTree(f.root), before);
    assertNoLeftovers(f);
  });

  test('configure twice then restore once gives back the originals (upstream lost them)', () => {
    using f = makeBusyRoot();
    const before = listTree(f.root);
    assertOk(configure(f), 'first configure');
    assertOk(runCli(['configure', '--root', f.root, '--state-dir', f.state, '--mirror-url', 'https://other.example/simple']), 'second configure');
    assert.match(readFileSync(join(f.root, 'etc/pip.conf'), 'utf8'), /other\.example/);
    assertOk(restore(f), 'restore');
    assert.deepEqual(listTree(f.root), before);
    assertNoLeftovers(f);
  });

  test('restore with nothing to restore is a no-op success', () => {
    using f = makeBusyRoot();
    const before = listTree(f.root);
    const result = restore(f);
    assertOk(result, 'restore');
    assert.match(result.stdout, /nothing to restore/);
    assert.deepEqual(listTree(f.root), before);
    assertOk(configure(f), 'configure');
    assertOk(restore(f), 'restore');
    assertOk(restore(f), 'second restore');
    assert.deepEqual(listTree(f.root), before);
  });

  test('a file changed during the build is still put back; a directory filled by the build is kept', () => {
    using f = makeTempRoot();
    mkdirSync(join(f.root, 'root'));
    const before = listTree(f.root);
    assertOk(configure(f, ['--home', '/home/carol']), 'configure');
    // pip (or the build) rewrites the config and drops a file into the created home
    writeFileSync(join(f.root, 'etc/pip.conf'), 'changed by the build\n');
    writeFileSync(join(f.root, 'home/carol/left-by-build'), 'x');
    const result = restore(f);
    assertOk(result, 'restore');
    assert.match(result.stderr, /kept \/home\/carol: dib-pypi created it, but it now holds files/);
    assert.ok(!existsSync(join(f.root, 'etc/pip.conf')));
    assert.ok(!existsSync(join(f.root, 'home/carol/.pydistutils.cfg')));
    assert.ok(existsSync(join(f.root, 'home/carol/left-by-build')));
    assert.ok(before.length > 0);
  });

  test('a configure that fails part-way rolls back what it did', () => {
    using f = makeBusyRoot();
    const before = listTree(f.root);
    // /root/.pydistutils.cfg, the last target, is made a directory: configure must refuse it
    execFileSync('rm', [join(f.root, 'root/.pydistutils.cfg')]);
    mkdirSync(join(f.root, 'root/.pydistutils.cfg'));
    const middle = listTree(f.root);
    const result = configure(f);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /\/root\/\.pydistutils\.cfg inside .* is not a regular file or symlink; refusing to replace it/);
    assert.deepEqual(listTree(f.root), middle);
    assertNoLeftovers(f);
    assert.notDeepEqual(before, middle);
  });
});

describe('no escape from the root', () => {
  test('a symlinked pip.conf pointing at a host file is replaced as a link, the host file untouched', () => {
    using f = makeTempRoot();
    mkdirSync(join(f.root, 'etc'));
    mkdirSync(join(f.root, 'root'));
    const hostFile = join(f.outside, 'host-file');
    symlinkSync(hostFile, join(f.root, 'etc/pip.conf'));
    const before = listTree(f.root);
    const hostBefore = listTree(f.outside);
    assertOk(configure(f), 'configure');
    assert.ok(lstatSync(join(f.root, 'etc/pip.conf')).isFile(), 'the link itself is replaced by the config');
    assert.deepEqual(listTree(f.outside), hostBefore, 'configure wrote through the symlink');
    assertOk(restore(f), 'restore');
    assert.equal(readlinkSync(join(f.root, 'etc/pip.conf')), hostFile);
    assert.deepEqual(listTree(f.root), before);
    assert.deepEqual(listTree(f.outside), hostBefore);
  });

  test('/root/.pip -> /etc and ~/.config -> ../../../outside resolve inside the root', () => {
    using f = makeTempRoot();
    mkdirSync(join(f.root, 'etc'));
    mkdirSync(join(f.root, 'root'));
    writeFileSync(join(f.root, 'etc/pip.conf'), '[global]\nindex-url = https://etc.example/simple\n');
    symlinkSync('/etc', join(f.root, 'root/.pip'));
    // climbs above the root: inside the root `..` stops at `/`, so this is <root>/outside
    symlinkSync('../../../../../../outside', join(f.root, 'root/.config'));
    const before = listTree(f.root);
    const hostBefore = listTree(f.outside);
    const configured = configure(f);
    assertOk(configured, 'configure');
    assert.deepEqual(listTree(f.outside), hostBefore);
    assert.match(configured.stdout, /wrote \/etc\/pip\.conf, \/root\/\.pydistutils\.cfg/);
    assertOk(restore(f), 'restore');
    assert.deepEqual(listTree(f.root), before);
    assert.deepEqual(listTree(f.outside), hostBefore);
  });

  test('an absolute symlinked home is read as a path inside the root', () => {
    using f = makeTempRoot();
    mkdirSync(join(f.root, 'etc'));
    // /root -> <outside> (an absolute host path): inside the root that path does not exist
    symlinkSync(f.outside, join(f.root, 'root'));
    const hostBefore = listTree(f.outside);
    const before = listTree(f.root);
    assertOk(configure(f), 'configure');
    assert.deepEqual(listTree(f.outside), hostBefore, 'configure followed the link onto the host');
    assert.ok(existsSync(join(f.root, f.outside, '.pydistutils.cfg')), 'the home is created inside the root');
    assertOk(restore(f), 'restore');
    assert.deepEqual(listTree(f.root), before);
  });

  test('`..` in --home cannot climb out of the root', () => {
    using f = makeTempRoot();
    const hostBefore = listTree(f.outside);
    const before = listTree(f.root);
    const result = configure(f, ['--home', '/root/../../../../outside']);
    assertOk(result, 'configure');
    assert.ok(existsSync(join(f.root, 'outside/.pydistutils.cfg')));
    assert.deepEqual(listTree(f.outside), hostBefore);
    assertOk(restore(f), 'restore');
    assert.deepEqual(listTree(f.root), before);
  });

  test('a relative --home is bad input', () => {
    using f = makeTempRoot();
    const result = configure(f, ['--home', 'root']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--home: must be an absolute path inside the root/);
  });

  test('a directory swapped for a symlink during the build is refused by restore', () => {
    using f = makeTempRoot();
    mkdirSync(join(f.root, 'etc'));
    mkdirSync(join(f.root, 'root'));
    assertOk(configure(f), 'configure');
    // the build replaces /root with a link to the host
    execFileSync('mv', [join(f.root, 'root'), join(f.root, 'root.moved')]);
    symlinkSync(f.outside, join(f.root, 'root'));
    const hostBefore = listTree(f.outside);
    const result = restore(f);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /\/root inside .* is now a symlink; refusing to follow it/);
    assert.deepEqual(listTree(f.outside), hostBefore);
  });

  test('a bind mount inside the root is never written through', (t) => {
    if (!need(t, isRoot, 'needs root to bind-mount')) return;
    using f = makeTempRoot();
    mkdirSync(join(f.root, 'etc/xdg/pip'), { recursive: true });
    mkdirSync(join(f.root, 'root'));
    mkdirSync(join(f.outside, 'pip'));
    writeFileSync(join(f.outside, 'pip/pip.conf'), '[global]\n');
    execFileSync('mount', ['--bind', join(f.outside, 'pip'), join(f.root, 'etc/xdg/pip')]);
    try {
      const before = listTree(f.root);
      const hostBefore = listTree(f.outside);
      const result = configure(f);
      assert.equal(result.status, 1, result.stderr);
      assert.match(result.stderr, /refusing to write .*etc\/xdg\/pip\/pip\.conf: it is on .*, a mount inside/);
      assert.deepEqual(listTree(f.outside), hostBefore);
      assert.deepEqual(listTree(f.root), before);
    } finally {
      execFileSync('umount', [join(f.root, 'etc/xdg/pip')]);
    }
  });
});

describe('configure --mirror', () => {
  test('bind-mounts the mirror read-only at /tmp/pypi; restore unmounts it and removes the mount point', (t) => {
    if (!need(t, isRoot, 'needs root to mount')) return;
    using f = makeBusyRoot();
    writeFileSync(join(f.outside, 'index.html'), '<html></html>');
    const before = listTree(f.root);
    const configured = configure(f, ['--mirror', f.outside]);
    assertOk(configured, 'configure');
    assert.match(configured.stdout, /mounted .* read-only at \/tmp\/pypi/);
    const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');
    assert.ok(mountinfo().includes(join(f.root, 'tmp/pypi')), 'not mounted');
    assert.equal(readFileSync(join(f.root, 'tmp/pypi/index.html'), 'utf8'), '<html></html>');
    assert.throws(() => writeFileSync(join(f.root, 'tmp/pypi/x'), 'x'), /EROFS/, 'the mirror is writable from the root');
    const restored = restore(f);
    assertOk(restored, 'restore');
    assert.match(restored.stdout, /unmounted \/tmp\/pypi/);
    assert.ok(!mountinfo().includes(join(f.root, 'tmp/pypi')), 'still mounted');
    assert.deepEqual(listTree(f.root), before);
    assertNoLeftovers(f);
  });
});

describe("restore finds the DIB element's journal beside the root", () => {
  test('configure --state-dir <parent>/dib-pypi, then a bare restore --root', () => {
    using f = makeBusyRoot();
    const before = listTree(f.root);
    const beside = join(f.base, 'dib-pypi');
    assertOk(runCli(['configure', '--root', f.root, '--state-dir', beside, ...MIRROR]), 'configure');
    // no --state-dir: the default state directory has no journal for this root, the one beside it has
    const restored = runCli(['restore', '--root', f.root], { env: cleanEnv({ XDG_STATE_HOME: join(f.base, 'xdg') }) });
    assertOk(restored, 'restore');
    assert.match(restored.stdout, /restored /);
    assert.deepEqual(listTree(f.root), before);
  });
});

describe('a journal belongs to one root', () => {
  test('a different directory at the same path is refused', () => {
    using f = makeTempRoot();
    assertOk(configure(f), 'configure');
    execFileSync('mv', [f.root, f.root + '.old']);
    mkdirSync(f.root);
    const result = restore(f);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /was written for another directory/);
    execFileSync('rm', ['-rf', f.root]);
    execFileSync('mv', [f.root + '.old', f.root]);
    assertOk(restore(f), 'restore');
  });

  test('the environment of the machine does not leak into the plan of these tests', () => {
    assert.ok(!Object.keys(cleanEnv()).some((k) => k.startsWith('PIP_')));
  });
});
