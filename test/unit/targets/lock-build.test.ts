// Builds from a lock (--lock): pip.conf in hash-checking mode, the lock among configure's files, exec's variables,
// docker build's own flag, the secret mount, and the checks on the lock itself (a requirements file pip would obey).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../../src/errors.js';
import { firstJournalProblem } from '../../../src/inject/journal-rules.js';
import { pipEnvironment, renderExecPipConf } from '../../../src/inject/render-env.js';
import { renderPipConf } from '../../../src/inject/render-pip-conf.js';
import { planTargetFiles } from '../../../src/inject/target-files.js';
import { LOCK_PATH } from '../../../src/inject/target-paths.js';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { parseLock } from '../../../src/pypi/lock-file.js';
import { splitBuildArgs } from '../../../src/targets/docker-build-args.js';
import { addRunMounts } from '../../../src/targets/dockerfile-mounts.js';
import { LOCK_SECRET, lockRunMount, lockSecretArgs } from '../../../src/targets/lock-mount.js';
import { readLock } from '../../../src/targets/read-lock.js';
import { makeTempDir } from '../../helpers/python.js';

const plan = buildPlan({ flags: {}, env: { DIB_PYPI_MIRROR_URL: 'file:///tmp/pypi', DIB_OFFLINE: '1' }, dotenv: {} });
const HASH = 'a'.repeat(64);
const LOCK = `# a comment\nalpha==1.0 \\\n    --hash=sha256:${HASH}\nbeta==2.0 ; python_version == "3.11" \\\n    --hash=sha256:${'b'.repeat(64)}\n`;

test('renderPipConf with a lock: require-hashes and the lock as a constraint, after the plan; without one, neither', () => {
  const conf = renderPipConf(plan, { forContainer: true, lock: LOCK_PATH });
  assert.match(conf, /\nrequire-hashes = true\nconstraint = \/tmp\/pypi-requirements\.lock\n$/);
  assert.match(conf, /^index-url = file:\/\/\/tmp\/pypi$/m);
  assert.doesNotMatch(renderPipConf(plan, { forContainer: true }), /require-hashes|constraint/);
  assert.doesNotMatch(renderPipConf(plan), /require-hashes|constraint/);
});

test('planTargetFiles: the lock is written only when there is one, at LOCK_PATH, with its exact text, and every pip.conf requires hashes', () => {
  assert.equal(
    planTargetFiles(plan, '/root').some((f) => f.path === LOCK_PATH),
    false,
  );
  const files = planTargetFiles(plan, '/root', LOCK);
  const lock = files.filter((f) => f.path === LOCK_PATH);
  assert.deepEqual(lock, [{ path: LOCK_PATH, ownedBy: 'system', onlyIfPresent: false, content: LOCK }]);
  const confs = files.filter((f) => f.path.endsWith('pip.conf'));
  assert.equal(confs.length, 4);
  for (const conf of confs) assert.match(conf.content, /require-hashes = true\nconstraint = \/tmp\/pypi-requirements\.lock\n/);
});

test('restore obeys a journal that records the lock file, and still refuses another name in /tmp', () => {
  const begin = { op: 'begin', root: '/r', dev: '1', ino: '2' };
  const ok = [begin, { op: 'home', path: '/root' }, { op: 'absent', path: LOCK_PATH }, { op: 'temp', path: '/tmp/.pypi-requirements.lock.tmp-1-0' }];
  assert.equal(firstJournalProblem(ok), undefined);
  assert.match(firstJournalProblem([begin, { op: 'absent', path: '/tmp/evil.lock' }])?.problem ?? '', /./);
});

test('exec with a lock: PIP_REQUIRE_HASHES and PIP_CONSTRAINT beat any config file; its pip.conf says the same', () => {
  const vars = pipEnvironment(plan, '/t/pip.conf', '/t/requirements.lock');
  assert.deepEqual(
    vars.filter((v) => /REQUIRE_HASHES|CONSTRAINT/.test(v.name)),
    [
      { name: 'PIP_REQUIRE_HASHES', value: 'true' },
      { name: 'PIP_CONSTRAINT', value: '/t/requirements.lock' },
    ],
  );
  assert.equal(
    pipEnvironment(plan, '/t/pip.conf').some((v) => /REQUIRE_HASHES|CONSTRAINT/.test(v.name)),
    false,
  );
  assert.match(renderExecPipConf(plan, '/t/requirements.lock'), /require-hashes = true\nconstraint = \/t\/requirements\.lock\n$/);
});

test('docker build: --lock is ours, in both spellings; docker gets nothing of it', () => {
  for (const args of [
    ['--lock', 'my.lock', '.'],
    ['--lock=my.lock', '.'],
  ]) {
    const split = splitBuildArgs(['-t', 'x', ...args]);
    assert.equal(split.own.lock, 'my.lock');
    assert.deepEqual(split.docker, ['-t', 'x']);
  }
  assert.throws(() => splitBuildArgs(['.', '--lock']), /--lock needs a value/);
});

test('docker build: every RUN mounts the lock as a secret file in /tmp; its secret file is private and holds the exact text', () => {
  assert.equal(lockRunMount(), `--mount=type=secret,id=${LOCK_SECRET},target=/tmp/pypi-requirements.lock,mode=0444`);
  const out = addRunMounts('FROM x\nRUN a\nRUN b\n', [lockRunMount()]);
  assert.equal(out.runs, 2);
  using dir = disposableDir();
  const args = lockSecretArgs(dir.path, LOCK);
  assert.deepEqual(args, ['--secret', `id=${LOCK_SECRET},src=${join(dir.path, 'requirements.lock')}`]);
  assert.equal(readFileSync(join(dir.path, 'requirements.lock'), 'utf8'), LOCK);
});

function disposableDir(): { path: string } & Disposable {
  const dir = makeTempDir('dib-pypi-lock-unit-');
  return { path: dir.path, [Symbol.dispose]: dir.remove };
}

test('readLock: a lock as mirror add writes it is read as it is', () => {
  using dir = disposableDir();
  const path = join(dir.path, 'requirements.lock');
  writeFileSync(path, LOCK);
  assert.deepEqual(readLock(path), { path, text: LOCK, pins: 2 });
});

// Each is a requirements file pip would accept, and obey inside the target.
const BAD_LOCKS: [string, string | Buffer, RegExp][] = [
  ['another index', `--index-url http://127.0.0.1:9/evil\nalpha==1.0 --hash=sha256:${HASH}\n`, /line 1 is not a pin/],
  ['an extra index on a pin line', `alpha==1.0 --extra-index-url=http://x --hash=sha256:${HASH}\n`, /line 1 is not a pin/],
  ['an option hidden in a marker', `alpha==1.0 ; python_version > "3" --global-option=--evil --hash=sha256:${HASH}\n`, /line 1 is not a pin/],
  ['another requirements file', `-r other.txt\nalpha==1.0 --hash=sha256:${HASH}\n`, /line 1 is not a pin/],
  ['a pin without a hash', 'alpha==1.0\n', /line 1 is not a pin/],
  ['an unpinned requirement', `alpha>=1.0 --hash=sha256:${HASH}\n`, /line 1 is not a pin/],
  ['an editable', `-e git+https://x/y#egg=y\n`, /line 1 is not a pin/],
  ['nothing pinned', '# only a comment\n', /pins nothing/],
  ['bytes that are not UTF-8', Buffer.from([0x61, 0xff, 0x0a]), /is not UTF-8 text/],
];

for (const [what, text, message] of BAD_LOCKS) {
  test(`readLock refuses ${what}, as an input error naming the file`, () => {
    using dir = disposableDir();
    const path = join(dir.path, 'bad.lock');
    writeFileSync(path, text);
    assert.throws(
      () => readLock(path),
      (error: unknown) => error instanceof InputError && error.input === 'lock' && error.detail.startsWith(path) && message.test(error.detail),
    );
  });
}

test('readLock refuses a missing file, a directory and a FIFO (without hanging on it)', () => {
  using dir = disposableDir();
  const fifo = join(dir.path, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  mkdirSync(join(dir.path, 'sub'));
  assert.throws(() => readLock(join(dir.path, 'missing')), /cannot read .*missing: ENOENT/);
  assert.throws(() => readLock(join(dir.path, 'sub')), /is not a regular file/);
  assert.throws(() => readLock(fifo), /is not a regular file/);
});

test('parseLock refuses an option hidden in a marker, and still reads a marker with a quoted minus', () => {
  assert.throws(() => parseLock(`a==1 ; python_version > "3" -c x --hash=sha256:${HASH}\n`), /line 1 is not a pin/);
  assert.equal(parseLock(`a==1 ; platform_release == "5-x" --hash=sha256:${HASH}\n`).entries[0]?.marker, 'platform_release == "5-x"');
});
