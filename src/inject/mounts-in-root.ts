// Mount the mirror, /proc and /dev inside a root, each journaled before it is made, so restore (even after a kill) unmounts it.
import { spawnSync } from 'node:child_process';
import { fstatSync, lstatSync, statSync } from 'node:fs';
import { ConfinementError, DibPypiError, InternalError } from '../errors.js';
import { MOUNT_POINTS } from './journal-rules.js';
import { readMountPoints } from '../fs/mounts.js';
import { pinDirInRoot, splitParent, type PinnedDir } from '../fs/pinned-dir.js';
import { hostPathOf, splitPath } from '../fs/resolve-in-root.js';
import type { StepHook } from './step-hook.js';
import { openJournal, realRootOf } from './root-journal.js';

export type MountKind = 'bind-ro' | 'bind' | 'proc';

export interface MountSpec {
  /** Directory inside the root; it must exist (configure's `dirs` creates it, journaled). */
  target: string;
  kind: MountKind;
  /** Host path for bind mounts. */
  source?: string;
}

export function isMounted(hostPath: string): boolean {
  return readMountPoints().includes(hostPath);
}

// node:child_process, not execa: restore loads this module, and restore's start-up time is budgeted (bench/configure-restore.ts).
function run(args: string[]): void {
  const result = spawnSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) {
    const detail = result.stderr?.trim() || result.error?.message || `exit ${result.status ?? result.signal}`;
    throw new DibPypiError(`${args.join(' ')} failed: ${detail}`, { cause: result.error });
  }
}

/**
 * Refuse a mount point a user inside the root could redirect: every component of `target` that
 * exists must be a real directory (no symlink: `/tmp/pypi -> /etc` would mount over the image's
 * /etc) owned by root, so that nobody but root can swap it for a link between our check and the
 * mount. The missing tail is what configure creates (root-owned) before mounting. Nothing is changed.
 */
export function checkMountPoint(root: string, target: string): void {
  const parts = splitPath(target);
  for (let i = 1; i <= parts.length; i++) {
    const inRoot = '/' + parts.slice(0, i).join('/');
    const stat = lstatSync(hostPathOf(root, inRoot), { throwIfNoEntry: false });
    if (stat === undefined) return;
    const why = stat.isSymbolicLink()
      ? 'is a symlink'
      : !stat.isDirectory()
        ? 'is not a directory'
        : stat.uid !== 0
          ? `is owned by uid ${stat.uid}, not root`
          : undefined;
    if (why !== undefined) {
      throw new ConfinementError(
        `refusing to mount on ${target} inside ${root}: ${inRoot} ${why} (a mount point must be a root-owned directory with no symlink on the way)`,
        target,
      );
    }
  }
}

/** Pin the mount point itself and prove it still is the root-owned directory checked. */
function pinMountPoint(root: string, target: string): PinnedDir {
  checkMountPoint(root, target);
  const dir = pinDirInRoot(root, target);
  if (dir === undefined) throw new DibPypiError(`cannot mount on ${target} inside ${root}: it does not exist`);
  if (fstatSync(dir.fd).uid !== 0) {
    dir.close();
    throw new ConfinementError(`refusing to mount on ${target} inside ${root}: it is no longer owned by root`, target);
  }
  return dir;
}

/**
 * Mount through the pinned directory's /proc/PID/fd path: mount(8) runs as a child and reaches our
 * descriptor there, and --no-canonicalize keeps it from turning that back into a path string, so
 * the kernel mounts on the very directory we opened and checked, whatever its path names now.
 */
function mountPinned(root: string, spec: MountSpec): void {
  const dir = pinMountPoint(root, spec.target);
  try {
    switch (spec.kind) {
      case 'proc':
        run(['mount', '--no-canonicalize', '-t', 'proc', 'proc', dir.path]);
        return;
      case 'bind':
      case 'bind-ro':
        run(['mount', '--no-canonicalize', '--bind', spec.source as string, dir.path]);
        break;
    }
  } finally {
    dir.close();
  }
  if (spec.kind !== 'bind-ro') return;
  // Second step (a bind mount ignores `ro` on its first mount): open the mount point again, check
  // that it now is the bind mount of the source, and remount that very mount read-only.
  const again = pinDirInRoot(root, spec.target);
  if (again === undefined) throw new ConfinementError(`${spec.target} inside ${root} vanished while it was mounted`, spec.target);
  try {
    const now = fstatSync(again.fd);
    const source = statSync(spec.source as string);
    if (now.dev !== source.dev || now.ino !== source.ino) {
      throw new ConfinementError(`${spec.target} inside ${root} is not the bind mount of ${spec.source} just made; refusing to remount it`, spec.target);
    }
    run(['mount', '--no-canonicalize', '-o', 'remount,bind,ro', again.path]);
  } finally {
    again.close();
  }
}

/** Mount each spec on its directory inside the root (a root-owned directory, no symlink on the way, pinned while mounting). */
export function mountInRoot(options: { root: string; stateRoot: string; mounts: MountSpec[]; onStep?: StepHook }): string[] {
  const root = realRootOf(options.root);
  const { journal, release } = openJournal(root, options.stateRoot);
  const mounted: string[] = [];
  try {
    for (const spec of options.mounts) {
      if (MOUNT_POINTS[spec.target] !== spec.kind) throw new InternalError(`mount ${spec.kind} on ${spec.target} is not one of dib-pypi's (journal-rules.ts)`);
      checkMountPoint(root, spec.target);
      const host = hostPathOf(root, spec.target);
      if (!lstatSync(host, { throwIfNoEntry: false })?.isDirectory())
        throw new DibPypiError(`cannot mount on ${spec.target} inside ${root}: it does not exist`);
      // A second configure keeps the first one's mount instead of stacking another on it.
      const isRecorded = journal.records.some((r) => r.op === 'mount' && r.path === spec.target);
      if (isRecorded && isMounted(host)) continue;
      journal.append({ op: 'mount', path: spec.target, kind: spec.kind });
      options.onStep?.(`journaled mount ${spec.target}`);
      mountPinned(root, spec);
      mounted.push(spec.target);
      options.onStep?.(`mounted ${spec.target}`);
    }
    return mounted;
  } finally {
    journal.close();
    release();
  }
}

/**
 * Unmount what a `mount` record made, if it is still mounted (lazily when busy: a process may still
 * hold it). Through the pinned parent directory: a mount point cannot be renamed or replaced while
 * mounted, so the entry named in the pinned parent is the mount mountinfo shows at that place.
 */
export function unmountRecorded(root: string, inRoot: string): boolean {
  const host = hostPathOf(root, inRoot);
  if (!isMounted(host)) return false;
  const { parent, name } = splitParent(inRoot);
  const dir = pinDirInRoot(root, parent);
  if (dir === undefined) return false;
  try {
    if (!lstatSync(dir.entry(name), { throwIfNoEntry: false })?.isDirectory()) return false;
    try {
      run(['umount', '--no-canonicalize', dir.entry(name)]);
    } catch {
      run(['umount', '--no-canonicalize', '-l', dir.entry(name)]);
    }
  } finally {
    dir.close();
  }
  return true;
}
