// The mirror side of a sync: what a project directory holds (trusting the index manifest's hashes for
// unchanged files), leftovers of killed runs removed, sidecars written and files deleted.
import { createHash } from 'node:crypto';
import { createReadStream, type Dirent, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../fs/process-lock.js';
import { PART_MARK, partPathFor } from '../../upstream/part-path.js';
import { DibPypiError } from '../../errors.js';
import type { Manifest } from '../store/manifest.js';
import { TEMP_NAME } from '../../fs/replace-file.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import { isSidecar, SIDECARS } from '../index/scan-mirror.js';
import { isDistName } from '../../pypi/dist-filename.js';
import type { LocalFile, ProjectState, SidecarChange } from './plan.js';

/** `.<name>.part-<pid>-<n>`: the pid of the run that was downloading it. */
function partOwner(name: string): number | undefined {
  const at = name.lastIndexOf(PART_MARK);
  if (!name.startsWith('.') || at === -1) return undefined;
  return Number.parseInt(name.slice(at + PART_MARK.length), 10);
}

/** Read `DIR/<project>/` (created when missing unless `isReadOnly`; a symlink is refused): its files and sidecars; temp files of dead runs removed. */
export function readProjectState(dir: string, project: string, manifest: Manifest, isReadOnly = false): ProjectState {
  const path = join(dir, project);
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) {
    if (!isReadOnly) mkdirSync(path, { recursive: true });
    return { project, files: new Map(), sidecars: new Map() };
  }
  if (!stat.isDirectory()) throw new DibPypiError(`${path}: not a directory (a symlink or file where the project's directory belongs); not touched`);
  const files = new Map<string, LocalFile>();
  const sidecars = new Map<string, string>();
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const name = entry.name;
    const owner = partOwner(name);
    if (owner !== undefined) {
      if (!isReadOnly && owner !== process.pid && !isAlive(owner)) rmSync(join(path, name), { force: true });
      continue;
    }
    if (name.startsWith('.') || !entry.isFile()) continue;
    if (isSidecar(name)) sidecars.set(name, readFileSync(join(path, name), 'utf8'));
    else if (isDistName(name)) {
      const s = lstatSync(join(path, name), { bigint: true });
      const local: LocalFile = { size: Number(s.size) };
      const record = manifest.files[`${project}/${name}`];
      if (record?.sha256 !== undefined && record.size === local.size && record.mtimeNs === String(s.mtimeNs)) local.trustedSha256 = record.sha256;
      files.set(name, local);
    }
  }
  return { project, files, sidecars };
}

/** The digest of a file, streamed. */
export async function hashFile(path: string, algorithm: string): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Remove the sidecars `changes` removes; write each other one to a temp file beside it, for the caller to commit (journal + rename). */
export function stageSidecars(projectDir: string, changes: readonly SidecarChange[]): { name: string; temp: string; target: string; sha256: string }[] {
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

/** What a removed project's directory may hold that sync or the index made (anything else is left, and so is the directory). */
function isMirrorFile(name: string): boolean {
  return isDistName(name) || isSidecar(name) || name === 'index.html' || name === 'index.json' || name.endsWith('.metadata') || name.includes(PART_MARK) || TEMP_NAME.test(name);
}

/** Project directories in the mirror: `DIR/<name>/` where the name is a normalised project name (others are not sync's). */
export function mirrorProjectDirs(dir: string): string[] {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && isValidProjectName(e.name) && normalizeProjectName(e.name) === e.name)
    .map((e) => e.name)
    .sort();
}

function isDistEntry(entry: Dirent): boolean {
  return entry.isFile() && isDistName(entry.name) && !entry.name.startsWith('.');
}

/** Whether `DIR/<project>/` holds a distribution file (a directory sync could have made). */
export function hasDistributions(dir: string, project: string): boolean {
  return readdirSync(join(dir, project), { withFileTypes: true }).some(isDistEntry);
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
    if (isDistName(entry.name) && !entry.name.startsWith('.')) files++;
  }
  if (left.length === 0) rmdirSync(path);
  return { files, left };
}
