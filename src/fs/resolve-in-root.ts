// Resolve a path inside a target root the way a process chrooted there would, never leaving the root.
import { lstatSync, readlinkSync, type BigIntStats, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ConfinementError } from '../errors.js';

const MAX_SYMLINKS = 40; // Linux's limit (ELOOP)

export interface ResolvedDir {
  /** Physical path inside the root, from `/`, with no symlink in it (e.g. `/etc`). */
  existing: string;
  /** Components below `existing` that do not exist yet, to be created in order. */
  missing: string[];
}

/** Split an in-root path into components, dropping empty and `.` parts. */
export function splitPath(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** Host path of a physical in-root path. Components are checked, so the result is always under `root`. */
export function hostPathOf(root: string, inRoot: string): string {
  const parts = splitPath(inRoot);
  if (parts.includes('..')) throw new ConfinementError(`refusing a path with '..' inside the root: ${inRoot}`, inRoot);
  return parts.length === 0 ? root : join(root, ...parts);
}

/**
 * Resolve the directory `dir` inside `root` with chroot semantics: an absolute symlink target
 * starts again at the root, `..` stops at the root. Symlinks are read, never followed by the OS,
 * so a link to `/etc` means `<root>/etc`, never the host's /etc.
 */
export function resolveDirInRoot(root: string, dir: string): ResolvedDir {
  const stack: string[] = [];
  const queue = splitPath(dir);
  const missing: string[] = [];
  let links = 0;
  while (queue.length > 0) {
    const part = queue.shift() as string;
    if (missing.length > 0) {
      // Below a missing directory nothing can be a symlink: resolve lexically.
      if (part === '..') missing.pop();
      else missing.push(part);
      continue;
    }
    if (part === '..') {
      stack.pop();
      continue;
    }
    const host = join(root, ...stack, part);
    let stat: Stats;
    try {
      stat = lstatSync(host);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(part);
      continue;
    }
    if (stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new ConfinementError(`too many symlinks resolving ${dir} inside ${root}`, dir);
      const target = readlinkSync(host);
      if (target.startsWith('/')) stack.length = 0;
      queue.unshift(...splitPath(target));
      continue;
    }
    if (!stat.isDirectory()) {
      throw new ConfinementError(`not a directory: ${'/' + [...stack, part].join('/')} inside ${root}`, dir);
    }
    stack.push(part);
  }
  return { existing: '/' + stack.join('/'), missing };
}

/**
 * lstat a physical in-root path, refusing if any directory on the way is (now) a symlink: restore
 * must touch exactly what configure recorded, not whatever a build put in its place.
 */
export function lstatPhysical(root: string, inRoot: string): BigIntStats | undefined {
  const parts = splitPath(inRoot);
  if (parts.includes('..')) throw new ConfinementError(`refusing a path with '..' inside the root: ${inRoot}`, inRoot);
  let stat: BigIntStats | undefined = lstatSync(root, { bigint: true });
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && stat.isSymbolicLink()) {
      throw new ConfinementError(
        `/${parts.slice(0, i).join('/')} inside ${root} is now a symlink; refusing to follow it to restore /${parts.join('/')}`,
        inRoot,
      );
    }
    if (!stat.isDirectory()) return undefined;
    stat = lstatSync(join(root, ...parts.slice(0, i + 1)), { bigint: true, throwIfNoEntry: false });
    if (stat === undefined) return undefined;
  }
  return stat;
}
