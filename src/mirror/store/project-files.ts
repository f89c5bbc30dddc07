// Changes to a project's directory that sync makes: sidecars staged for commit, distribution files and whole
// projects removed, temp files of dead runs cleaned up. Only what dib-pypi made is ever removed.
import { createHash } from 'node:crypto';
import { type Dirent, lstatSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../fs/process-lock.js';
import { partPathFor } from '../../upstream/part-path.js';
import { isMirrorFile, isVisibleDist, partOwner, SIDECARS } from './layout.js';

/** A sidecar to write (`text`) or remove (`null`). */
export interface SidecarWrite {
  name: string;
  text: string | null;
}

/**
 * Whether `name` in `projectDir` is a download temp (`.<name>.part-<pid>-<n>`); one of a dead run is
 * removed unless `isReadOnly` (this run's own, and a live run's, are left).
 */
export function cleanPart(projectDir: string, name: string, isReadOnly: boolean): boolean {
  const owner = partOwner(name);
  if (owner === undefined) return false;
  if (!isReadOnly && owner !== process.pid && !isAlive(owner)) rmSync(join(projectDir, name), { force: true });
  return true;
}

/** Remove the sidecars `changes` removes; write each other one to a temp file beside it, for the caller to commit (journal + rename). */
export function stageSidecars(projectDir: string, changes: readonly SidecarWrite[]): { name: string; temp: string; target: string; sha256: string }[] {
  const staged = [];
  for (const change of changes) {
    const target = join(projectDir, change.name);
    if (change.text === null) {
      rmSync(target, { force: true });
      continue;
    }
    const temp = partPathFor(target);
    writeFileSync(temp, change.text, { mode: 0o644, flag: 'wx' });
    staged.push({ name: change.name, temp, target, sha256: createHash('sha256').update(change.text).digest('hex') });
  }
  return staged;
}

/** Remove a distribution file and its sidecars (the index removes its `.metadata`). */
export function deleteDistribution(projectDir: string, name: string): void {
  rmSync(join(projectDir, name), { force: true });
  for (const suffix of SIDECARS) rmSync(join(projectDir, `${name}${suffix}`), { force: true });
}

export function isDistEntry(entry: Dirent): boolean {
  return entry.isFile() && isVisibleDist(entry.name);
}

/**
 * Remove a project that left the upstream: its distribution files, sidecars, `.metadata` files, pages and temp
 * files, then the directory. Returns how many distribution files went, and the names left (not sync's: kept,
 * and with them the directory); undefined when it is no project directory of sync's (no distribution file in it).
 */
export function removeProject(dir: string, project: string): { files: number; left: string[] } | undefined {
  const path = join(dir, project);
  if (!lstatSync(path).isDirectory()) return undefined;
  const entries = readdirSync(path, { withFileTypes: true });
  // Without a distribution file it holds only pages the index made for files kept elsewhere in the mirror: the index's.
  if (!entries.some(isDistEntry)) return undefined;
  let files = 0;
  const left: string[] = [];
  for (const entry of entries) {
    if (!entry.isFile() || !isMirrorFile(entry.name)) {
      left.push(entry.name);
      continue;
    }
    rmSync(join(path, entry.name), { force: true });
    if (isVisibleDist(entry.name)) files++;
  }
  if (left.length === 0) rmdirSync(path);
  return { files, left };
}
