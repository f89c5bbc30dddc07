// Test fixture for builds from a lock: a mirror filled by the real `dib-pypi mirror add` (which writes the lock), then
// grown past the lock, the lock's `mirror export`, and a tampered copy of that export.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, runCli } from './cli.js';
import { makeSdist, makeWheel } from './make-dist.js';
import { DEBIAN_PYTHON } from './python.js';

export interface LockFixture {
  /** Everything `mirror add` put in, plus lock-dep 2.0 and lock-extra added afterwards. */
  mirror: string;
  /** requirements.lock as `mirror add` wrote it: lock-app 1.0, lock-dep 1.0, lock-sdist 0.1. */
  lock: string;
  /** `mirror export LOCK` of `mirror`: exactly the locked files. */
  exported: string;
  /** A copy of `exported` whose lock-dep 1.0 wheel is another build of the same name and version, re-indexed: its pages agree with its bytes, only the lock does not. */
  tampered: string;
}

/** The packages: lock-app needs lock-dep (>=1) and lock-sdist, which only exists as an sdist. */
async function writeSource(dir: string): Promise<void> {
  await makeWheel(join(dir, 'lock-app'), {
    name: 'lock-app',
    version: '1.0',
    requires: ['lock-dep>=1', 'lock-sdist'],
    modules: { 'lock_app/__init__.py': 'import lock_dep, lock_sdist\nVALUE = lock_dep.VALUE + 1\n' },
  });
  await makeWheel(join(dir, 'lock-dep'), { name: 'lock-dep', version: '1.0', modules: { 'lock_dep/__init__.py': 'VALUE = 41\n' } });
  makeSdist(join(dir, 'lock-sdist'), { name: 'lock-sdist', version: '0.1', modules: { 'lock_sdist/__init__.py': 'NAME = "sdist"\n' } });
}

function cliOk(args: string[], cwd?: string): string {
  const result = runCli(args, { env: cleanEnv({ DIB_IMAGE_CACHE: '/nonexistent' }), ...(cwd !== undefined ? { cwd } : {}) });
  assert.equal(result.status, 0, `dib-pypi ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

export async function makeLockFixture(work: string): Promise<LockFixture> {
  const source = join(work, 'source');
  await writeSource(source);
  cliOk(['mirror', 'index', source, '-q']);
  const mirror = join(work, 'mirror');
  const lock = join(work, 'requirements.lock');
  // Debian's pip resolves from the source index, offline; the sdist's metadata is built with Debian's setuptools.
  cliOk(['mirror', 'add', mirror, '--python', DEBIAN_PYTHON, '--index-url', source, '--no-build-isolation', '--lock', lock, '--progress', 'none', 'lock-app']);
  // The mirror moves on after the lock: a newer lock-dep, a project the lock never saw.
  await makeWheel(join(mirror, 'lock-dep'), { name: 'lock-dep', version: '2.0', modules: { 'lock_dep/__init__.py': 'VALUE = 99\n' } });
  await makeWheel(join(mirror, 'lock-extra'), { name: 'lock-extra', version: '1.0' });
  cliOk(['mirror', 'index', mirror, '-q']);
  const exported = join(work, 'exported');
  cliOk(['mirror', 'export', lock, exported, '--from', mirror, '--copy']);
  const tampered = join(work, 'tampered');
  cpSync(exported, tampered, { recursive: true });
  const wheel = join(tampered, 'lock-dep', 'lock_dep-1.0-py3-none-any.whl');
  const before = readFileSync(wheel);
  rmSync(wheel);
  await makeWheel(join(tampered, 'lock-dep'), { name: 'lock-dep', version: '1.0', modules: { 'lock_dep/__init__.py': 'VALUE = 666\n' } });
  assert.notDeepEqual(readFileSync(wheel), before, 'the tampered wheel differs');
  cliOk(['mirror', 'index', tampered, '-q']);
  mkdirSync(join(work, 'scratch'), { recursive: true });
  return { mirror, lock, exported, tampered };
}

/** The sha256 digests (hex) a lock names. */
export function lockHashes(lockText: string): string[] {
  return [...lockText.matchAll(/--hash=sha256:([0-9a-f]{64})/g)].map((m) => m[1] as string);
}
