// Our `pypi` element (elements/pypi) in the real disk-image-create (Debian's DIB 3.13), offline:
// a mirror made here at $DIB_IMAGE_CACHE/pypi/mirror, a later element's install.d that pip-installs
// from it (POSIX sh), the user's own pip.conf and .pydistutils.cfg planted in the base. The image
// gets the packages and the user's files back byte for byte, and nothing of ours: no pip.conf,
// *.orig, pip.log or /tmp/pypi; nothing stays mounted; a build that fails later leaves no journal.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN } from '../../helpers/cli.js';
import { cachedBookwormRoot, mountsAtOrUnder } from '../../helpers/debootstrap-root.js';
import { buildImage, dibProblem, listTar, sha256Of, writeElement, type BuiltImage, type TarEntry } from '../../helpers/dib.js';
import { builtCliProblem, makeElementMirror, MIRROR_MODULES, pipInstallHook } from '../../helpers/element-mirror.js';
import { nginxProblem, startNginx } from '../../helpers/nginx.js';
import { normalizeProjectName } from '../../helpers/make-dist.js';
import { makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';

// The first build on a machine also makes the cached bookworm root (debootstrap, about a minute).
const LONG = { timeout: 15 * 60_000 };
/** This project's elements directory: first on ELEMENTS_PATH, so its `pypi` wins over DIB's own. */
const OUR_ELEMENTS = new URL('../../../../elements', import.meta.url).pathname;
const STATE_ROOT = '/var/lib/dib-pypi';
const PIP_USER = 'dib-pypi-test-pip-user';
const FAIL_LATER = 'dib-pypi-test-fail-later';

const USER_PIP_CONF = "# the user's own pip.conf, kept in the image\n[global]\ntimeout = 61\n";
const USER_DISTUTILS = "# the user's own distutils config\n[easy_install]\nindex_url = https://example.invalid/simple\n";
const PLANT = {
  '/root/.pip/pip.conf': { content: USER_PIP_CONF, mode: 0o600 },
  '/root/.pydistutils.cfg': { content: USER_DISTUTILS, mode: 0o640 },
};

function canRun(t: TestContext): boolean {
  const problem = dibProblem() ?? builtCliProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

function report(t: TestContext, what: string, build: BuiltImage): void {
  t.diagnostic(`${what}: disk-image-create exit ${build.exitCode} after ${build.seconds.toFixed(1)} s`);
}

function tail(build: BuiltImage, lines = 80): string {
  return build.log.split('\n').slice(-lines).join('\n');
}

function entry(listing: Map<string, TarEntry>, path: string): TarEntry {
  const found = listing.get(path);
  assert.ok(found !== undefined, `${path} is not in the image`);
  return found;
}

/** What /var/lib/dib-pypi holds (the host's default journal root), to prove a build adds nothing there. */
function stateRootListing(): string[] {
  return existsSync(STATE_ROOT) ? readdirSync(STATE_ROOT, { recursive: true }).map(String).sort() : [];
}

let baseListing: Promise<Map<string, TarEntry>> | undefined;
/** The bookworm root the base element unpacks, as listed: what the image had before any element ran. */
function base(): Promise<Map<string, TarEntry>> {
  baseListing ??= cachedBookwormRoot().then((tar) => listTar(tar));
  return baseListing;
}

/** Elements dir with the pip-installing element and the one whose install.d fails after it. */
function writeTestElements(dir: string): void {
  writeElement(dir, PIP_USER, { 'install.d/50-dib-pypi-test-pip-user': pipInstallHook() });
  writeElement(dir, FAIL_LATER, { 'install.d/60-dib-pypi-test-fail-later': '#!/bin/sh\necho "dib-pypi-test: a later element fails on purpose" >&2\nexit 7\n' });
}

/** Paths of pip and distutils config, backups and logs in `listing` that neither the bookworm base nor the planting put there. */
async function strayPaths(listing: Map<string, TarEntry>): Promise<string[]> {
  const before = await base();
  return [...listing.keys()].filter(
    (p) =>
      !before.has(p) &&
      !(p in PLANT) &&
      /(^|\/)(pip\.conf|pip\.log|\.pydistutils\.cfg|pydistutils\.cfg)$|\.orig$|^\/tmp\/pypi(\/|$)|^\/etc\/xdg\/pip(\/|$)|^\/root\/\.config\/pip(\/|$)/.test(p),
  );
}

/** The packages pip installed, as the image has them. */
function assertInstalled(listing: Map<string, TarEntry>): void {
  for (const module of MIRROR_MODULES) {
    const found = [...listing.keys()].filter((p) => p.endsWith(`/dist-packages/${module}/__init__.py`));
    assert.deepEqual(found, [`/usr/local/lib/python3.11/dist-packages/${module}/__init__.py`], module);
  }
  const distInfos = [...listing.keys()].filter((p) => /^\/usr\/local\/lib\/python3\.11\/dist-packages\/[^/]+\.dist-info\/METADATA$/.test(p));
  assert.deepEqual(distInfos.map((p) => normalizeProjectName((p.split('/')[6] as string).replace(/\.dist-info$/, ''))).sort(), [
    'app-core-1-0',
    'only-sdist-0-5',
    'zope-interface-thing-2-1',
  ]);
}

/** pip's `Successfully installed` line names the three projects (as the request or metadata spells them). */
function assertPipInstalled(log: string): void {
  const line = /Successfully installed (.*)/.exec(log)?.[1];
  assert.ok(line !== undefined, 'pip did not report an install');
  assert.deepEqual(line.trim().split(/\s+/).map(normalizeProjectName).sort(), ['app-core-1-0', 'only-sdist-0-5', 'zope-interface-thing-2-1']);
}

function assertUserFiles(listing: Map<string, TarEntry>): void {
  for (const [path, { content, mode }] of Object.entries(PLANT)) {
    const found = entry(listing, path);
    assert.deepEqual(
      { type: found.type, mode: found.mode, uid: found.uid, gid: found.gid, size: found.size, sha256: found.sha256 },
      { type: 'file', mode, uid: 0, gid: 0, size: Buffer.byteLength(content), sha256: sha256Of(content) },
      path,
    );
  }
}

test(
  "our pypi element in a real offline DIB build: pip installs from $DIB_IMAGE_CACHE/pypi/mirror, the image keeps the user's files and nothing of ours",
  LONG,
  async (t) => {
    if (!canRun(t)) return;
    await using elements = makeTempDir('dib-pypi-elements-');
    await using cache = makeTempDir('dib-pypi-image-cache-');
    writeTestElements(elements.path);
    // The element's mirror source: `$DIB_IMAGE_CACHE/pypi/mirror` (the harness's own DIB_IMAGE_CACHE
    // is a directory it makes inside the build's work dir; env overrides it, as here).
    const mirror = join(cache.path, 'pypi', 'mirror');
    await makeElementMirror(mirror);
    const mirrorBefore = readdirSync(mirror, { recursive: true }).map(String).sort();
    const stateBefore = stateRootListing();

    await using build = await buildImage({
      elements: ['pypi', PIP_USER],
      extraElementsPaths: [OUR_ELEMENTS, elements.path],
      env: { DIB_IMAGE_CACHE: cache.path, DIB_PYPI_BIN: BIN },
      args: ['--offline'],
      plant: PLANT,
    });
    report(t, 'our element, offline build', build);
    assert.equal(build.exitCode, 0, tail(build));
    assert.match(build.log, /Build completed successfully/);
    assert.match(build.log, new RegExp(`Copying hooks ${OUR_ELEMENTS}/pypi/extra-data\\.d/50-pypi-configure`), "the pypi element of this project, not DIB's");
    assert.match(build.log, /Looking in indexes: file:\/\/\/tmp\/pypi/);
    assertPipInstalled(build.log);
    assert.match(build.log, /DIB-PYPI-TEST imported/);
    assert.match(build.log, /DIB-PYPI-TEST mirror mounted: ro[,\s]/);
    assert.match(build.log, /DIB-PYPI-TEST mirror read-only/);
    // post-root.d put every file it wrote back and unmounted the mirror before DIB's own clean-up.
    assert.match(build.log, /restored \S+\/mnt: unmounted \/tmp\/pypi, .*\/etc\/pip\.conf/);

    // Nothing stays mounted, below the build or on the mirror; the mirror is as it was; no journal stays.
    assert.deepEqual(build.mountsLeft, []);
    assert.deepEqual(build.loopsLeft, []);
    assert.deepEqual(mountsAtOrUnder(cache.path), []);
    assert.deepEqual(readdirSync(mirror, { recursive: true }).map(String).sort(), mirrorBefore);
    assert.deepEqual(readdirSync(join(build.workDir, 'tmp')), [], 'DIB removed its build dir, and our journal in it');
    assert.deepEqual(stateRootListing(), stateBefore, `nothing new in ${STATE_ROOT}`);

    const listing = await listTar(build.tar);
    assertInstalled(listing);
    assertUserFiles(listing);
    assert.deepEqual(await strayPaths(listing), [], 'no pip.conf, .pydistutils.cfg, *.orig, pip.log or /tmp/pypi of ours');
    assert.ok(!listing.has('/etc/pip.conf') && !(await base()).has('/etc/pip.conf'), '/etc/pip.conf was absent and stays absent');
    assert.ok(!(await base()).has('/tmp/pypi') && !listing.has('/tmp/pypi'), 'no /tmp/pypi (it did not exist before)');
    assert.deepEqual(
      [...listing.keys()].filter((p) => p.startsWith('/tmp/')),
      [],
    );
    assert.equal(entry(listing, '/root/.pip').mode, 0o755, 'the planted parent, as it was');
  },
);

test("our pypi element when a later element's install.d fails: the build fails, nothing stays mounted, no journal is left", LONG, async (t) => {
  if (!canRun(t)) return;
  await using elements = makeTempDir('dib-pypi-elements-');
  await using cache = makeTempDir('dib-pypi-image-cache-');
  writeTestElements(elements.path);
  const mirror = join(cache.path, 'pypi', 'mirror');
  await makeElementMirror(mirror);
  const stateBefore = stateRootListing();

  await using build = await buildImage({
    elements: ['pypi', PIP_USER, FAIL_LATER],
    extraElementsPaths: [OUR_ELEMENTS, elements.path],
    env: { DIB_IMAGE_CACHE: cache.path, DIB_PYPI_BIN: BIN },
    args: ['--offline'],
    plant: PLANT,
  });
  report(t, 'our element, a later install.d fails', build);
  assert.notEqual(build.exitCode, 0, tail(build));
  assert.equal(build.exitCode, 7, tail(build));
  assert.equal(build.timedOut, false);
  // The failure came after pip used the mirror, while our configuration was in place.
  assertPipInstalled(build.log);
  assert.match(build.log, /dib-pypi-test: a later element fails on purpose/);
  assert.doesNotMatch(build.log, /Build completed successfully/);
  assert.ok(!existsSync(build.tar));
  // DIB's EXIT trap unmounted everything below the build (the mirror at /tmp/pypi included) and
  // removed the build dir, our journal ($TMP_BUILD_DIR/dib-pypi) with it; nothing went elsewhere.
  assert.match(build.log, /Unmount .*\/mnt\/tmp\/pypi/);
  assert.deepEqual(build.mountsLeft, []);
  assert.deepEqual(build.loopsLeft, []);
  assert.deepEqual(mountsAtOrUnder(cache.path), []);
  assert.deepEqual(readdirSync(join(build.workDir, 'tmp')), [], 'the build dir (and the journal in it) is gone');
  assert.deepEqual(stateRootListing(), stateBefore, `no journal in ${STATE_ROOT}`);
  assert.deepEqual(
    readdirSync(build.workDir, { recursive: true })
      .map(String)
      .filter((p) => /dib-pypi(\/|$)/.test(p) && !p.startsWith('elements')),
    [],
    'no dib-pypi state anywhere in the work dir',
  );
});

test('our pypi element with DIB_PYPI_MIRROR_URL at an http mirror (nginx) instead of the mounted one', LONG, async (t) => {
  if (!canRun(t)) return;
  if (!need(t, nginxProblem() === undefined, nginxProblem() ?? '')) return;
  await using elements = makeTempDir('dib-pypi-elements-');
  await using served = makeTempDir('dib-pypi-http-mirror-');
  await using cache = makeTempDir('dib-pypi-image-cache-');
  writeTestElements(elements.path);
  await makeElementMirror(served.path);
  await using server = await startNginx(served.path);

  await using build = await buildImage({
    elements: ['pypi', PIP_USER],
    extraElementsPaths: [OUR_ELEMENTS, elements.path],
    // No $DIB_IMAGE_CACHE/pypi/mirror: nothing to mount; pip reads the index over HTTP (the chroot shares the host's loopback).
    env: { DIB_IMAGE_CACHE: cache.path, DIB_PYPI_BIN: BIN, DIB_PYPI_MIRROR_URL: server.url },
    args: ['--offline'],
    plant: PLANT,
  });
  report(t, 'our element, http mirror', build);
  assert.equal(build.exitCode, 0, tail(build));
  assert.match(build.log, new RegExp(`Looking in indexes: ${server.url.replaceAll('.', '\\.')}`));
  assert.match(build.log, /DIB-PYPI-TEST mirror not mounted/);
  assertPipInstalled(build.log);
  const log = server.accessLog();
  for (const path of ['/app-core/', '/zope-interface-thing/', '/only-sdist/'])
    assert.match(log, new RegExp(`GET ${path} 200`), `nginx served ${path}:\n${log}`);
  assert.deepEqual(build.mountsLeft, []);

  const listing = await listTar(build.tar);
  assertInstalled(listing);
  assertUserFiles(listing);
  assert.deepEqual(await strayPaths(listing), []);
  assert.ok(!listing.has('/etc/pip.conf'));
});
