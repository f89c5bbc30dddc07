// `dib-pypi podman build` with Debian's podman (vfs storage of its own, network none): offline builds
// from the mirror, and no file, URL or credential of it in the image.
import { describe } from 'node:test';
import { sharedCases } from '../../helpers/oci-build-cases.js';
import { ociSuite } from '../../helpers/oci.js';

const suite = ociSuite('podman', 'dib-pypi-podman-build-test-');

describe('dib-pypi podman build', { skip: suite.skip }, () => {
  sharedCases(suite);
});
