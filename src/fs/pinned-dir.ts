// Act on an entry inside a root through a pinned directory descriptor, never through a host path string a user inside the root could redirect.
//
// Checking `<root>/home/u/.pip` and then writing `<root>/home/u/.pip/pip.conf` leaves a window in
// which the owner of `.pip` swaps it for a symlink to a host directory: the kernel follows the link
// and root writes outside the root. So a directory is opened once with O_NOFOLLOW, the open
// descriptor's real location (the kernel's own /proc/PID/fd link) is compared with the physical
// path expected inside the root (equal only if no symlink was on the way when it was opened), and
// every operation on an entry goes through `/proc/PID/fd/N/<entry>`: the kernel resolves that magic
// link to the pinned directory itself, whatever the path names now, and the entry operations used
// here (create with O_EXCL, rename, unlink, rmdir, mkdir, symlink, lchown, lutimes, lstat, open
// with O_NOFOLLOW) do not follow a symlink in the last component. /proc/PID rather than /proc/self,
// so that a child process (mount, umount, touch) of root reaches the same descriptor.
import { closeSync, constants, openSync, readlinkSync } from 'node:fs';
import { ConfinementError } from '../errors.js';
import { hostPathOf, lstatPhysical, splitPath } from './resolve-in-root.js';

export interface PinnedDir {
  /** `/proc/PID/fd/N`: names the pinned directory for this process and its children. */
  path: string;
  fd: number;
  /** The physical host path it was at when opened. */
  hostPath: string;
  /** Host-side name of an entry in the pinned directory. */
  entry(name: string): string;
  close(): void;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The physical location of an open descriptor, as the kernel sees it. */
export function fdLocation(fd: number): string {
  return readlinkSync(`/proc/self/fd/${fd}`);
}

/**
 * Open the directory at the physical in-root path `inRoot` and prove it is there: returns
 * undefined when it does not exist (or something on the way is no directory); throws a
 * ConfinementError when a symlink is on the way (a directory swapped for a link).
 */
export function pinDirInRoot(root: string, inRoot: string): PinnedDir | undefined {
  const host = hostPathOf(root, inRoot);
  let fd: number;
  try {
    fd = openSync(host, DIR_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ELOOP') throw error;
    // Tell "missing" from "redirected": lstatPhysical throws for a symlink on the way.
    const stat = lstatPhysical(root, inRoot);
    if (stat?.isSymbolicLink()) throw new ConfinementError(`${inRoot} inside ${root} is now a symlink; refusing to follow it`, inRoot);
    if (stat?.isDirectory()) throw new ConfinementError(`${inRoot} inside ${root} changed while it was opened; refusing to use it`, inRoot);
    return undefined;
  }
  let where: string;
  try {
    where = fdLocation(fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  if (where !== host) {
    closeSync(fd);
    throw new ConfinementError(
      `${inRoot} inside ${root} led to ${where}, not ${host}: a directory on the way was swapped for a symlink; refusing to follow it`,
      inRoot,
    );
  }
  return pinnedFromFd(fd, host);
}

/** Wrap an already verified directory descriptor. */
function pinnedFromFd(fd: number, hostPath: string): PinnedDir {
  const path = `/proc/${process.pid}/fd/${fd}`;
  let open = true;
  return {
    path,
    fd,
    hostPath,
    entry: (name: string) => {
      if (name === '' || name === '.' || name === '..' || name.includes('/'))
        throw new ConfinementError(`not a plain entry name: ${JSON.stringify(name)}`, name);
      return `${path}/${name}`;
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** The in-root parent directory and last component of a physical in-root path (not `/`). */
export function splitParent(inRoot: string): { parent: string; name: string } {
  const parts = splitPath(inRoot);
  const name = parts.pop();
  if (name === undefined || name === '..') throw new ConfinementError(`no entry to act on in ${JSON.stringify(inRoot)}`, inRoot);
  return { parent: '/' + parts.join('/'), name };
}

/** Pin the parent of `inRoot` and run `fn` with it; undefined (fn not run) when the parent does not exist. */
export function withPinnedParent<T>(root: string, inRoot: string, fn: (dir: PinnedDir, name: string) => T): T | undefined {
  const { parent, name } = splitParent(inRoot);
  const dir = pinDirInRoot(root, parent);
  if (dir === undefined) return undefined;
  try {
    return fn(dir, name);
  } finally {
    dir.close();
  }
}
