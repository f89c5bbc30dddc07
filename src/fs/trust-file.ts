// Whether a file the server obeys (the upload ACL, the project owners) may be believed: the file and
// every directory above it are owned by root or us and writable by no one else (trust-dir.ts's rules;
// a sticky directory such as /tmp may sit above). Links are resolved, and the link's directory checked too.
import { lstatSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { untrustedDirReason, untrustedFileReason } from './trust-dir.js';

/** Every directory from / down to the real `dir` (inclusive). */
function chainOf(dir: string): string[] {
  const chain = ['/'];
  for (const part of dir.split('/').filter(Boolean)) chain.push(join(chain.at(-1) as string, part));
  return chain;
}

/**
 * Why the existing file `path` is not to be trusted (`{ path, reason }` of the culprit), or undefined.
 * `isParentStrict`: its own directory must not be writable by others even when sticky (a directory
 * where we create the file: in a sticky one, someone else could create it first).
 * Throws the ENOENT (or other) error of a path that cannot be examined.
 */
export function untrustedFile(path: string, owners: ReadonlySet<number>, isParentStrict = false): { path: string; reason: string } | undefined {
  const real = realpathSync(path);
  const parents = new Set([...chainOf(realpathSync(dirname(path))), ...chainOf(dirname(real))]);
  for (const dir of parents) {
    const isStrict = isParentStrict && dir === dirname(real);
    const reason = untrustedDirReason(lstatSync(dir), owners, !isStrict);
    if (reason !== undefined) return { path: dir, reason };
  }
  const reason = untrustedFileReason(lstatSync(real), owners);
  return reason === undefined ? undefined : { path: real, reason };
}

/** Why the existing directory `path` (checked strictly, its parents as above: a sticky one allowed) is not to be trusted, or undefined. */
export function untrustedDir(path: string, owners: ReadonlySet<number>): { path: string; reason: string } | undefined {
  const real = realpathSync(path);
  for (const dir of chainOf(real)) {
    const reason = untrustedDirReason(lstatSync(dir), owners, dir !== real);
    if (reason !== undefined) return { path: dir, reason };
  }
  return undefined;
}
