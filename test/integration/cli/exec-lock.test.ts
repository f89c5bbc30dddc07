// dib-pypi exec --lock with Debian's pip: a lock `mirror add` wrote installs from its export; a file whose bytes are not the
// lock's, an unpinned requirement and a version the lock does not pin each fail with pip's own message; a bad lock is exit 2.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { type LockFixture, makeLockFixture } from '../../helpers/lock-fixture.js';
import { DEBIAN_PYTHON, debianPipProblem, makeTempDir } from '../../helpers/python.js';
import { need } from '../../helpers/require.js';

const work = makeTempDir('dib-pypi-exec-lock-');
const tmp = join(work.path, 'tmp');
let fixture: LockFixture | undefined;
let problem: string | undefined;

before(async () => {
  problem = await debianPipProblem();
  if (problem !== undefined) return;
  mkdirSync(tmp);
  fixture = await makeLockFixture(work.path);
});
after(() => work.remove());

let n = 0;
/** `dib-pypi exec [--lock LOCK] --mirror MIRROR -- pip install --target NEW ...`, with its own TMPDIR. */
function pipInstall(mirror: string, withLock: boolean, args: string[]) {
  const target = join(work.path, `target-${n++}`);
  const lock = withLock && fixture !== undefined ? ['--lock', fixture.lock] : [];
  const pip = [DEBIAN_PYTHON, '-m', 'pip', 'install', '--no-build-isolation', '--no-cache-dir', '--target', target, ...args];
  const result = runCli(['exec', '--mirror', mirror, ...lock, '--', ...pip], { env: cleanEnv({ TMPDIR: tmp }) });
  return { ...result, output: result.stdout + result.stderr, target };
}

/** The fixture, or undefined when the test is skipped (no Debian pip here). */
function ready(t: import('node:test').TestContext): LockFixture | undefined {
  return need(t, problem === undefined, problem ?? '') ? fixture : undefined;
}

test('exec --lock: the lock installs from its export (the sdist built in place); the temp directory goes', (t) => {
  const fixture = ready(t);
  if (fixture === undefined) return;
  const run = pipInstall(fixture.exported, true, ['-r', fixture.lock]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /Successfully installed lock-app-1\.0 lock-dep-1\.0 lock-sdist-0\.1/);
  assert.equal(readFileSync(join(run.target, 'lock_dep', '__init__.py'), 'utf8'), 'VALUE = 41\n');
  assert.deepEqual(readdirSync(tmp), []);
});

test("exec --lock: a mirror file whose bytes are not the lock's fails with pip's hash mismatch, though the mirror's pages agree with it", (t) => {
  const fixture = ready(t);
  if (fixture === undefined) return;
  const run = pipInstall(fixture.tampered, true, ['lock-app==1.0']);
  assert.notEqual(run.status, 0);
  assert.match(run.output, /Hashes are required in --require-hashes mode/, 'a requirement without hashes is refused');
  const fromLock = pipInstall(fixture.tampered, true, ['-r', fixture.lock]);
  assert.equal(fromLock.status, 1, fromLock.output);
  assert.match(fromLock.output, /THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE/);
  assert.match(fromLock.output, /lock-dep==1\.0[\s\S]*Expected sha256 [0-9a-f]{64}\s+Got\s+[0-9a-f]{64}/);
  assert.equal(existsSync(join(fromLock.target, 'lock_dep')), false, 'nothing installed');
  // The control: without --lock, pip takes the tampered wheel, since the re-indexed pages vouch for it.
  const control = pipInstall(fixture.tampered, false, ['lock-app==1.0']);
  assert.equal(control.status, 0, control.output);
  assert.equal(readFileSync(join(control.target, 'lock_dep', '__init__.py'), 'utf8'), 'VALUE = 666\n');
});

test('exec --lock: an unpinned extra requirement fails, alone or beside the lock; without --lock it installs', (t) => {
  const fixture = ready(t);
  if (fixture === undefined) return;
  for (const args of [['-r', fixture.lock, 'lock-extra'], ['lock-extra']]) {
    const run = pipInstall(fixture.mirror, true, args);
    assert.equal(run.status, 1, run.output);
    assert.match(run.output, /In --require-hashes mode, all requirements must have their versions pinned with ==[\s\S]*lock-extra/);
  }
  const control = pipInstall(fixture.mirror, false, ['lock-extra']);
  assert.equal(control.status, 0, control.output);
});

test('exec --lock: the mirror has moved on (lock-dep 2.0), the lock still installs 1.0; a hashed requirement of 2.0 conflicts with it', (t) => {
  const fixture = ready(t);
  if (fixture === undefined) return;
  const run = pipInstall(fixture.mirror, true, ['-r', fixture.lock]);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /Successfully installed lock-app-1\.0 lock-dep-1\.0 lock-sdist-0\.1/);
  const hash = sha256File(join(fixture.mirror, 'lock-dep', 'lock_dep-2.0-py3-none-any.whl'));
  const own = join(work.path, 'own.txt');
  writeFileSync(own, `lock-dep==2.0 --hash=sha256:${hash}\n`);
  const newer = pipInstall(fixture.mirror, true, ['-r', own]);
  assert.equal(newer.status, 1, newer.output);
  assert.match(newer.output, /ResolutionImpossible/);
  const control = pipInstall(fixture.mirror, false, ['-r', own]);
  assert.equal(control.status, 0, control.output);
});

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

test('exec --lock: a lock that is no lock (an index option in it), or none at all, is exit 2 naming --lock; CMD never runs', (t) => {
  const fixture = ready(t);
  if (fixture === undefined) return;
  const bad = join(work.path, 'bad.lock');
  writeFileSync(bad, `--index-url http://127.0.0.1:9/\n${readFileSync(fixture.lock, 'utf8')}`);
  const marker = join(work.path, 'ran');
  for (const lock of [bad, join(work.path, 'missing.lock')]) {
    const run = runCli(['exec', '--mirror', fixture.exported, '--lock', lock, '--', 'touch', marker], { env: cleanEnv({ TMPDIR: tmp }) });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /--lock: /);
    assert.equal(existsSync(marker), false);
  }
  assert.deepEqual(readdirSync(tmp), []);
});
