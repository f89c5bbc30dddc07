// `dib-pypi buildah build` with Debian's buildah (vfs storage of its own): offline builds from the
// mirror with no trace in the image, and chroot isolation, which has no network namespace to cut.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { build, context, sharedCases } from '../../helpers/oci-build-cases.js';
import { ociSuite, runInImage } from '../../helpers/oci.js';
import { need } from '../../helpers/require.js';

const suite = ociSuite('buildah', 'dib-pypi-buildah-build-test-');

describe('dib-pypi buildah build', { skip: suite.skip }, () => {
  sharedCases(suite);

  test('--isolation chroot: no --network none is given (it has no network namespace), with a warning; pip still installs from the mirror', async (t) => {
    if (!need(t, suite.problem === undefined, suite.problem ?? '')) return;
    const dir = context(suite, 'chroot', 'FROM BASE\nRUN python3 -m pip install --break-system-packages dib-app\n');
    const tag = 'localhost/dib-pypi-test-build:chroot';
    const result = await build(suite, ['--mirror', suite.mirror, '--offline', '--isolation', 'chroot', '--layers=false', '-t', tag, dir]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /chroot isolation share the host's network/);
    assert.doesNotMatch(result.stderr, /\(network none\)/);
    assert.equal(runInImage(suite, tag, ['python3', '-c', 'import dib_app; print(dib_app.VALUE)']).trim(), '42');
  });
});
