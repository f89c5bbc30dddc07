// `dib-pypi docker build --lock` with the real engine and BuildKit: the lock installs from its export; a file whose bytes are not
// the lock's and an unpinned extra requirement fail the build with pip's message; nothing of the lock is in the image.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { mirrorImageTag } from '../../../src/targets/mirror-image.js';
import { runCliAsync } from '../../helpers/cli.js';
import { dockerOk, dockerSuite, engineLeftovers, saveImage, tempDirWatch, tracesIn } from '../../helpers/docker.js';
import { type LockFixture, lockHashes, makeLockFixture } from '../../helpers/lock-fixture.js';
import { need } from '../../helpers/require.js';

const suite = dockerSuite('dib-pypi-docker-lock-test-');
const newBuildDirs = tempDirWatch('dib-pypi-build-');
const { problem, env, images } = suite;
let fixture: LockFixture;

const INSTALL = 'python3 -m pip install --break-system-packages --no-build-isolation';

function context(name: string, dockerfile: string): string {
  const dir = join(suite.work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile.replaceAll('BASE', suite.base));
  return dir;
}

/** `dib-pypi docker build --mirror MIRROR --lock LOCK --no-cache` of a one-RUN Dockerfile; its image and the mirror's are removed after the suite. */
function build(name: string, mirror: string, run: string) {
  const tag = `dib-pypi-test-lock:${name}`;
  images.push(tag, mirrorImageTag(mirror));
  const dir = context(name, `FROM BASE\nRUN ${run}\n`);
  return runCliAsync(['docker', 'build', '--mirror', mirror, '--lock', fixture.lock, '--offline', '--no-cache', '--progress', 'plain', '-t', tag, dir], {
    env,
    cwd: suite.work,
  }).then((result) => ({ ...result, tag }));
}

describe('dib-pypi docker build --lock', { skip: suite.skip }, () => {
  // Inside the describe: its hooks run after the file's, which set up suite.work.
  before(async () => {
    if (problem !== undefined) return;
    fixture = await makeLockFixture(join(suite.work, 'lock'));
  });

  test('the lock installs from its export in a RUN; the image holds no trace of it: no file, no path, no hash, no secret', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const before = engineLeftovers();
    const result = await build(
      'ok',
      fixture.exported,
      `${INSTALL} -r /tmp/pypi-requirements.lock && python3 -c "import lock_app, lock_sdist; assert lock_app.VALUE == 42"`,
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /Successfully installed lock-app-1\.0 lock-dep-1\.0 lock-sdist-0\.1/);
    assert.match(result.stderr, /the lock at \/tmp\/pypi-requirements\.lock/);
    assert.equal(dockerOk(['run', '--rm', '--network', 'none', result.tag, 'python3', '-c', 'import lock_app; print(lock_app.VALUE)']).trim(), '42');

    const saved = saveImage(result.tag, suite.base);
    const lockText = readFileSync(fixture.lock, 'utf8');
    // The RUN line the user wrote names /tmp/pypi-requirements.lock (history keeps it): the file itself must be gone.
    assert.deepEqual(
      tracesIn(saved, [fixture.lock, 'dib-pypi-lock', 'constraint = /tmp/pypi-requirements.lock', lockText.split('\n')[0] as string, ...lockHashes(lockText)]),
      [],
    );
    assert.deepEqual(
      saved.newLayerEntries.filter((e) => /pypi-requirements|pip\.conf|tmp\/pypi\/./.test(e)),
      [],
    );
    assert.doesNotMatch(saved.historyText, /--mount|dib-pypi-lock/);
    assert.equal(saved.config.config.Env?.some((e) => /PIP_|pypi/i.test(e)) ?? false, false);
    assert.deepEqual(engineLeftovers(), before, 'no containers or dangling images left');
    assert.deepEqual(newBuildDirs(), []);
  });

  test("a mirror file whose bytes are not the lock's fails the build with pip's hash mismatch, though the mirror's pages vouch for it", async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const result = await build('tampered', fixture.tampered, `${INSTALL} -r /tmp/pypi-requirements.lock`);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE/);
    assert.match(result.stderr, /lock-dep==1\.0[\s\S]*Expected sha256 [0-9a-f]{64}[\s\S]*Got +[0-9a-f]{64}/);
    assert.deepEqual(newBuildDirs(), []);
  });

  test('an unpinned extra requirement fails the build, beside the lock or alone, though the mirror has it', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const result = await build('extra', fixture.mirror, `${INSTALL} -r /tmp/pypi-requirements.lock lock-extra`);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /In --require-hashes mode, all requirements must have their versions pinned with ==[\s\S]*lock-extra/);
    const alone = await build('extra-alone', fixture.mirror, `${INSTALL} lock-extra`);
    assert.equal(alone.status, 1, alone.stderr);
    assert.match(alone.stderr, /In --require-hashes mode, all requirements must have their versions pinned with ==[\s\S]*lock-extra/);
  });

  test('a lock that is no lock is exit 2 naming --lock, before anything is built', async (t) => {
    if (!need(t, problem === undefined, problem ?? '')) return;
    const bad = join(suite.work, 'bad.lock');
    writeFileSync(bad, 'lock-app>=1.0\n');
    const dir = context('bad', 'FROM BASE\nRUN true\n');
    const result = await runCliAsync(['docker', 'build', '--lock', bad, '--offline', dir], { env, cwd: suite.work });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--lock: .*bad\.lock: line 1 is not a pin/);
    assert.doesNotMatch(result.stderr, /docker build/i);
  });
});
