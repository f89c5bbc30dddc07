// Test fixture: a listing of a directory tree (path, type, mode, owner, size, mtime in ns, sha256) to prove a root is unchanged.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

function typeOf(stat: BigIntStats): string {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
}

function contentOf(host: string, stat: BigIntStats): string {
  if (stat.isFile()) return 'sha256:' + createHash('sha256').update(readFileSync(host)).digest('hex');
  if (stat.isSymbolicLink()) return 'target:' + JSON.stringify(readlinkSync(host));
  return '-';
}

/** One line per entry below (and including) `root`, sorted by path; symlinks are listed, never followed. */
export function listTree(root: string): string[] {
  const lines: string[] = [];
  const visit = (relative: string) => {
    const host = relative === '.' ? root : join(root, relative);
    const stat = lstatSync(host, { bigint: true });
    const mode = (stat.mode & 0o7777n).toString(8).padStart(4, '0');
    lines.push([JSON.stringify(relative), typeOf(stat), mode, stat.uid, stat.gid, stat.size, stat.mtimeNs, contentOf(host, stat)].join(' '));
    if (!stat.isDirectory()) return;
    for (const name of readdirSync(host).sort()) visit(relative === '.' ? name : `${relative}/${name}`);
  };
  visit('.');
  return lines;
}

/** Lines only in `before` (prefixed `-`) or only in `after` (prefixed `+`); empty when the trees are identical. */
export function diffListings(before: string[], after: string[]): string[] {
  const inAfter = new Set(after);
  const inBefore = new Set(before);
  return [...before.filter((l) => !inAfter.has(l)).map((l) => `- ${l}`), ...after.filter((l) => !inBefore.has(l)).map((l) => `+ ${l}`)];
}

/** The paths whose lines differ between two listings, sorted. */
export function changedPaths(before: string[], after: string[]): string[] {
  const pathOf = (line: string) => JSON.parse(/^("(?:[^"\\]|\\.)*")/.exec(line)?.[1] ?? '""') as string;
  return [...new Set(diffListings(before, after).map((l) => pathOf(l.slice(2))))].sort();
}
