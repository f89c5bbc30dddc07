// Test fixture for the DIB element tests: a small mirror indexed by the real CLI, and the install.d
// hook (POSIX sh) that installs from it inside the chroot.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { BIN, runCli } from './cli.js';
import { makeSdist, makeWheel } from './make-dist.js';

/** What `makeElementMirror` holds, by the names the install hook asks for (deliberately not normalised). */
export const MIRROR_REQUESTS = ['APP_core', 'only.sdist'];
/** The import names that must work afterwards (app_core pulls in its dependency zope_interface_thing). */
export const MIRROR_MODULES = ['app_core', 'zope_interface_thing', 'only_sdist'];

/** Why the built CLI cannot run, or undefined (the tests run `npm run build` first; so does CI). */
export function builtCliProblem(): string | undefined {
  return existsSync(BIN) && existsSync(new URL('../../cli/dib-pypi.cjs', import.meta.url)) ? undefined : `${BIN} or dist/cli is missing: run npm run build`;
}

/**
 * `dir` becomes a mirror: a wheel with a dependency (`App.Core` needs `Zope.Interface_Thing>=2`),
 * the dependency under a name only PEP 503 normalisation finds (`Zope.Interface_Thing`, asked for as
 * a dependency), and an sdist-only project (`only-sdist`); indexed with `dib-pypi mirror index`.
 */
export async function makeElementMirror(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await makeWheel(dir, { name: 'App.Core', version: '1.0', requires: ['Zope.Interface_Thing>=2'] });
  await makeWheel(dir, { name: 'Zope.Interface_Thing', version: '2.1' });
  makeSdist(dir, { name: 'only-sdist', version: '0.5' });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stdout + indexed.stderr);
}

/**
 * install.d hook (POSIX sh): pip install from whatever index the pypi element configured, then
 * import the modules. `--no-build-isolation`: the sdist builds with the image's setuptools (the
 * mirror has no setuptools wheel to build in isolation with, and the build is offline).
 * Also prints whether /tmp/pypi is mounted and whether it can be written (`DIB-PYPI-TEST` lines).
 */
export function pipInstallHook(): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'if awk \'$2 == "/tmp/pypi" { found = 1 } END { exit !found }\' /proc/mounts; then',
    '    echo "DIB-PYPI-TEST mirror mounted: $(awk \'$2 == "/tmp/pypi" { print $4 }\' /proc/mounts)"',
    '    if touch /tmp/pypi/.dib-pypi-test-write 2>/dev/null; then echo "DIB-PYPI-TEST mirror writable"; else echo "DIB-PYPI-TEST mirror read-only"; fi',
    'else',
    '    echo "DIB-PYPI-TEST mirror not mounted"',
    'fi',
    `python3 -m pip install --break-system-packages --no-cache-dir --no-build-isolation ${MIRROR_REQUESTS.join(' ')}`,
    `python3 -c 'import ${MIRROR_MODULES.join(', ')}; print("DIB-PYPI-TEST imported")'`,
    '',
  ].join('\n');
}
