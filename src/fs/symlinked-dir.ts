// Whether a path inside a tree goes through a symlinked directory: code that deletes files of a mirror never follows one out of it.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';

/** Whether a directory on the way to `path` (relative to `dir`, `/`-separated) is a symlink. */
export function passesSymlink(dir: string, path: string): boolean {
  let at = dir;
  for (const part of path.split('/').slice(0, -1)) {
    at = join(at, part);
    if (lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink() === true) return true;
  }
  return false;
}
