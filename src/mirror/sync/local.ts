// The mirror side of a sync, as read: what a project directory holds (trusting the index manifest's hashes for
// unchanged files; leftovers of killed runs removed by the store), which directories are projects.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DibPypiError } from '../../errors.js';
import type { Manifest } from '../store/manifest.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import { isSidecar } from '../store/layout.js';
import { cleanPart, isDistEntry } from '../store/project-files.js';
import { isDistName } from '../../pypi/dist-filename.js';
import type { LocalFile, ProjectState } from './plan.js';

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
    if (cleanPart(path, name, isReadOnly)) continue;
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

/** Project directories in the mirror: `DIR/<name>/` where the name is a normalised project name (others are not sync's). */
export function mirrorProjectDirs(dir: string): string[] {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && isValidProjectName(e.name) && normalizeProjectName(e.name) === e.name)
    .map((e) => e.name)
    .sort();
}

/** Whether `DIR/<project>/` holds a distribution file (a directory sync could have made). */
export function hasDistributions(dir: string, project: string): boolean {
  return readdirSync(join(dir, project), { withFileTypes: true }).some(isDistEntry);
}
