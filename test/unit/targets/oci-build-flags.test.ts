// podman's and buildah's flags apart from ours, and which isolation a build runs with. Pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitBuildArgs } from '../../../src/targets/docker-build-args.js';
import { BUILDAH_DIALECT, isolationOf, PODMAN_DIALECT } from '../../../src/targets/oci-build-flags.js';
import { UsageError } from '../../../src/errors.js';

test("podman's value flags keep their values out of the context; ours are picked out", () => {
  const split = splitBuildArgs(
    [
      '--mirror',
      '/m',
      '-v',
      '/a:/b',
      '--isolation',
      'chroot',
      '--layers=false',
      '--pull=always',
      '--ulimit',
      'nofile=1:1',
      '-f',
      'x/Containerfile',
      'ctx',
      '--offline',
    ],
    PODMAN_DIALECT,
  );
  assert.equal(split.context, 'ctx');
  assert.equal(split.file, 'x/Containerfile');
  assert.equal(split.own.mirror, '/m');
  assert.equal(split.own.offline, true);
  assert.deepEqual(split.docker, ['-v', '/a:/b', '--isolation', 'chroot', '--layers=false', '--pull=always', '--ulimit', 'nofile=1:1']);
});

test("errors name the engine's command", () => {
  assert.throws(
    () => splitBuildArgs(['-qt', 'x', 'ctx'], BUILDAH_DIALECT),
    (error: unknown) => error instanceof UsageError && /^dib-pypi buildah build: .*give buildah build's short options one by one/.test(error.message),
  );
  assert.throws(
    () => splitBuildArgs([], PODMAN_DIALECT),
    (error: unknown) => error instanceof UsageError && /^dib-pypi podman build: expects one build context/.test(error.message),
  );
  assert.throws(() => splitBuildArgs(['-qt', 'x', 'ctx']), /^UsageError: dib-pypi docker build: .*give docker build's short options/);
});

test('isolation: the last --isolation, else BUILDAH_ISOLATION, else oci', () => {
  assert.equal(isolationOf([], {}), 'oci');
  assert.equal(isolationOf([], { BUILDAH_ISOLATION: 'chroot' }), 'chroot');
  assert.equal(isolationOf(['--isolation', 'chroot'], {}), 'chroot');
  assert.equal(isolationOf(['--isolation=chroot', '--isolation', 'oci'], { BUILDAH_ISOLATION: 'chroot' }), 'oci');
  assert.equal(isolationOf(['--isolation=rootless'], {}), 'rootless');
});
