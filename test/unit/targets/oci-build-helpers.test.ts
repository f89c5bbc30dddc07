// podman/buildah build's pure parts for --lock and Ctrl-C: which mount targets buildah 1.28 leaves in the layer, and how the
// RUN helper a signal goes to is found in /proc.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LOCK_PATH } from '../../../src/inject/target-paths.js';
import { mountTargetsLeftBy } from '../../../src/targets/oci-mount-targets.js';
import { argv0OfCmdline, parentPidOfStat, runtimeHelpersOf } from '../../../src/targets/oci-runtime-helpers.js';
import { makeTempDir } from '../../helpers/python.js';

const same = (path: string) => path;

test('mountTargetsLeftBy: a target is left when it shares its first directory with the storage, as given or resolved', () => {
  assert.deepEqual(mountTargetsLeftBy('/tmp/ci/storage', [LOCK_PATH, '/etc/pip.conf'], same), [LOCK_PATH]);
  assert.deepEqual(mountTargetsLeftBy('/tmp', [LOCK_PATH], same), [LOCK_PATH]);
  assert.deepEqual(mountTargetsLeftBy('/var/lib/containers/storage', [LOCK_PATH, '/etc/pip.conf'], same), []);
  assert.deepEqual(mountTargetsLeftBy('/var/tmp/storage', [LOCK_PATH], same), [], '/var/tmp is not /tmp');
  assert.deepEqual(mountTargetsLeftBy('/tmpfs/storage', [LOCK_PATH], same), [], 'a prefix of the name is not the directory');
  assert.deepEqual(
    mountTargetsLeftBy('/srv/storage', [LOCK_PATH], () => '/tmp/real/storage'),
    [LOCK_PATH],
    'a symlink into /tmp',
  );
  const missing = () => {
    throw new Error('ENOENT');
  };
  assert.deepEqual(mountTargetsLeftBy('/var/lib/containers', [LOCK_PATH], missing), [], 'a storage not made yet is taken as given');
});

test('parentPidOfStat reads the field after the state, whatever the name holds; argv0OfCmdline the first NUL-ended word', () => {
  assert.equal(parentPidOfStat('123 (podman) S 77 123 77 0 -1'), 77);
  assert.equal(parentPidOfStat('124 (a) b) (c) R 78 124 78 0'), 78);
  assert.equal(parentPidOfStat('125 (x)'), undefined);
  assert.equal(argv0OfCmdline(Buffer.from('buildah-oci-runtime\0')), 'buildah-oci-runtime');
  assert.equal(argv0OfCmdline('podman\0build\0ctx\0'), 'podman');
  assert.equal(argv0OfCmdline(''), '');
});

test('runtimeHelpersOf: the children of the engine named as buildah re-executes its RUN helpers, no other process', async () => {
  await using dir = makeTempDir('dib-pypi-proc-');
  const proc = dir.path;
  const add = (pid: number, ppid: number, argv: string[]) => {
    mkdirSync(join(proc, String(pid)));
    writeFileSync(join(proc, String(pid), 'stat'), `${pid} (exe) S ${ppid} ${pid} ${pid} 0 -1`);
    writeFileSync(join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
  };
  add(100, 1, ['podman', 'build', 'ctx']);
  add(101, 100, ['buildah-oci-runtime']);
  add(102, 100, ['buildah-chroot-runtime']);
  add(103, 100, ['runc', 'state']);
  add(104, 101, ['buildah-oci-runtime']);
  add(105, 200, ['buildah-oci-runtime']);
  add(106, 100, ['sh', '-c', 'buildah-oci-runtime']);
  mkdirSync(join(proc, 'self'));
  mkdirSync(join(proc, '107'));
  assert.deepEqual(runtimeHelpersOf(100, proc), [101, 102]);
  assert.deepEqual(runtimeHelpersOf(300, proc), []);
  assert.deepEqual(runtimeHelpersOf(100, join(proc, 'none')), []);
});
