// The `--lock` cases `dib-pypi podman build` and `dib-pypi buildah build` share (run from sharedCases, on the suite's storage and
// base image): the lock installs from its export with nothing of it in any blob of the image but the mount flags buildah keeps in
// the history; a mirror file whose bytes are not the lock's fails with pip's hash mismatch; a storage under /tmp is refused.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ociMirrorImageRef } from '../../src/targets/oci-mirror-image.js';
import { runCliAsync } from './cli.js';
import { tempDirWatch } from './docker.js';
import { type LockFixture, lockHashes, makeLockFixture } from './lock-fixture.js';
import { leftovers, type OciSuite, runInImage, saveOciImage, storageEnv } from './oci.js';
import { need } from './require.js';

const INSTALL = 'python3 -m pip install --break-system-packages --no-build-isolation';
const PIP_CONF_MOUNT = '--mount=type=secret,id=dib-pypi-pip-conf,target=/etc/pip.conf,mode=0444';
const LOCK_MOUNT = '--mount=type=secret,id=dib-pypi-lock,target=/tmp/pypi-requirements.lock,mode=0444';

function lockBuild(suite: OciSuite, fixture: LockFixture, name: string, mirror: string, run: string, env = suite.env) {
  const dir = join(suite.work, `lock-${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${suite.base}\nRUN ${run}\n`);
  const tag = `localhost/dib-pypi-test-lock:${suite.engine}-${name}`;
  const args = [suite.engine, 'build', '--mirror', mirror, '--lock', fixture.lock, '--offline', '--layers=false', '-t', tag, dir];
  return runCliAsync(args, { env, cwd: suite.work }).then((result) => ({ ...result, tag }));
}

export function lockCases(suite: OciSuite): void {
  const newWorkDirs = tempDirWatch('dib-pypi-oci-build-');
  let fixture: LockFixture;
  before(async () => {
    if (suite.problem === undefined) fixture = await makeLockFixture(join(suite.work, 'lock'));
  });
  const ok = (t: Parameters<typeof need>[0]) => need(t, suite.problem === undefined, suite.problem ?? '');

  test('--lock: the lock installs from its export; no byte of it, its path as a file, its hashes or the secret in any blob, only our mount flags in the history', async (t) => {
    if (!ok(t)) return;
    const before = leftovers(suite);
    const check = 'python3 -c "import lock_app, lock_sdist; assert lock_app.VALUE == 42"';
    const result = await lockBuild(suite, fixture, 'ok', fixture.exported, `${INSTALL} -r /tmp/pypi-requirements.lock && ${check}`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout + result.stderr, /Successfully installed lock-app-1\.0 lock-dep-1\.0 lock-sdist-0\.1/);
    assert.match(result.stderr, /the lock at \/tmp\/pypi-requirements\.lock \(pip requires its hashes\)/);
    assert.equal(runInImage(suite, result.tag, ['python3', '-c', 'import lock_app; print(lock_app.VALUE)']).trim(), '42');

    const saved = saveOciImage(suite, result.tag, suite.base);
    const mirrorMount = `--mount=type=bind,from=${ociMirrorImageRef(fixture.exported)},target=/tmp/pypi`;
    const ours = [PIP_CONF_MOUNT, mirrorMount, LOCK_MOUNT];
    const runs = (saved.config.history ?? []).filter((h) => h.created_by?.includes('pypi-requirements'));
    assert.equal(runs.length, 1, saved.historyText);
    assert.ok(runs[0]?.created_by?.includes(ours.join(' ')), runs[0]?.created_by);
    // Every blob (layers, config with its history, manifest, index) without our three mount flags: no trace of the lock.
    let blobs = saved.bytes.toString('latin1');
    for (const flag of ours) blobs = blobs.replaceAll(flag, '');
    const lockText = readFileSync(fixture.lock, 'utf8');
    const needles = [
      fixture.lock,
      'dib-pypi-lock',
      'dib-pypi-pip-conf',
      'require-hashes = true',
      'constraint = /tmp/pypi-requirements.lock',
      lockText.split('\n')[0] as string,
      ...lockHashes(lockText),
    ];
    assert.deepEqual(
      needles.filter((needle) => blobs.includes(needle)),
      [],
    );
    assert.doesNotMatch(saved.historyText.replace(ours.join(' '), ''), /--mount|dib-pypi-(lock|pip-conf|mirror)/);
    assert.deepEqual(
      saved.newLayerEntries.filter((e) => /pypi-requirements|pip\.conf|tmp\/pypi\/.|run\/secrets/.test(e)),
      [],
    );
    assert.deepEqual(leftovers(suite), before, 'no working containers or dangling images left');
    assert.deepEqual(newWorkDirs(), []);
  });

  test("--lock: a mirror file whose bytes are not the lock's fails the build with pip's hash mismatch, though the mirror's pages vouch for it", async (t) => {
    if (!ok(t)) return;
    const before = leftovers(suite);
    const result = await lockBuild(suite, fixture, 'tampered', fixture.tampered, `${INSTALL} -r /tmp/pypi-requirements.lock`);
    assert.equal(result.status, 1, result.stderr);
    const output = result.stdout + result.stderr;
    assert.match(output, /THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE/);
    assert.match(output, /lock-dep==1\.0[\s\S]*Expected sha256 [0-9a-f]{64}[\s\S]*Got +[0-9a-f]{64}/);
    assert.deepEqual(leftovers(suite), before);
    assert.deepEqual(newWorkDirs(), []);
  });

  test('--lock with the storage under /tmp: exit 1 before anything is built (the lock mount point would stay in the image)', async (t) => {
    if (!ok(t)) return;
    const storage = join(suite.work, 'storage-in-tmp');
    mkdirSync(storage);
    const result = await lockBuild(suite, fixture, 'tmp-storage', fixture.exported, 'true', storageEnv(suite.engine, storage));
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /(^|\n)dib-pypi: error: [^\n]*mount point \/tmp\/pypi-requirements\.lock in the image[^\n]*graphroot \/tmp\/[^\n]+\n$/);
    assert.doesNotMatch(result.stdout + result.stderr, /STEP|COMMIT/);
    assert.deepEqual(newWorkDirs(), []);
  });
}
