// Move downloaded files into the mirror: `DIR/<project>/<file>`, each atomically, never over a file with other bytes.
import { copyFileSync, linkSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { DibPypiError, FileConflictError } from '../../errors.js';
import { fsyncPath } from '../../fs/atomic-write.js';
import { sha256File } from '../../fs/hash-file.js';
import { parseDistFilename } from '../../pypi/dist-filename.js';

/** A file pip saved (or built) in the temp directory. */
export interface DownloadedFile {
  /** Absolute path in the temp directory. */
  source: string;
  name: string;
  /** PEP 503-normalised project name. */
  project: string;
  version: string;
  sha256: string;
  size: number;
  /** Built here from an sdist (`--build-wheels`), not fetched from an index. */
  isBuilt: boolean;
  /** Labels of the targets whose run saved it (none for built wheels). */
  targets: string[];
}

export interface PlacedFile {
  /** Path relative to the mirror. */
  path: string;
  project: string;
  version: string;
  size: number;
  sha256: string;
}

export interface SkippedFile extends PlacedFile {
  reason: string;
}

export interface Placement {
  toAdd: { file: DownloadedFile; dest: string }[];
  skipped: SkippedFile[];
}

async function readDownloads(dir: string, targets: string[], isBuilt: boolean): Promise<DownloadedFile[]> {
  const files: DownloadedFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    const parsed = parseDistFilename(name);
    if (parsed === undefined)
      throw new DibPypiError(`pip saved ${name}, which is not a wheel or sdist file name dib-pypi can place in a mirror; nothing was added`);
    const source = join(dir, name);
    const { sha256, size } = await sha256File(source);
    files.push({ source, name, project: parsed.normalized, version: parsed.version, sha256, size, isBuilt, targets });
  }
  return files;
}

/** Every file in the runs' directories, one entry per name; the same name with other bytes from two runs is an error. */
export async function collectDownloads(runs: { dir: string; target?: string }[]): Promise<DownloadedFile[]> {
  const byName = new Map<string, DownloadedFile>();
  for (const run of runs) {
    for (const file of await readDownloads(run.dir, run.target === undefined ? [] : [run.target], run.target === undefined)) {
      const seen = byName.get(file.name);
      if (seen === undefined) byName.set(file.name, file);
      else if (seen.sha256 !== file.sha256) {
        throw new FileConflictError(
          `the index served two different files named ${file.name} (to targets ${seen.targets.join(', ')} and ${file.targets.join(', ')}); nothing was added`,
          [file.name],
        );
      } else seen.targets = [...new Set([...seen.targets, ...file.targets])];
    }
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The sha256 of an existing regular file, or undefined when nothing is there; anything else there is a conflict. */
async function existingSha256(path: string): Promise<string | undefined | 'not-a-file'> {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return undefined;
  if (!stat.isFile()) return 'not-a-file';
  return (await sha256File(path)).sha256;
}

/** Decide, before moving anything, what goes where: new files, files already there, and conflicts (an error). */
export async function planPlacement(mirror: string, files: DownloadedFile[]): Promise<Placement> {
  const placement: Placement = { toAdd: [], skipped: [] };
  const conflicts: string[] = [];
  for (const file of files) {
    const dest = join(mirror, file.project, file.name);
    const record = { path: relative(mirror, dest), project: file.project, version: file.version, size: file.size, sha256: file.sha256 };
    // A loose file at the top level (`pip download -d DIR`) is in the mirror too.
    const loose = join(mirror, file.name);
    let isPresent = false;
    for (const path of [dest, loose]) {
      const existing = await existingSha256(path);
      if (existing === undefined) continue;
      isPresent = true;
      if (existing === file.sha256) placement.skipped.push({ ...record, path: relative(mirror, path), reason: 'already in the mirror' });
      else if (file.isBuilt && existing !== 'not-a-file')
        placement.skipped.push({ ...record, path: relative(mirror, path), sha256: existing, reason: 'a wheel built earlier is kept' });
      else
        conflicts.push(
          `${relative(mirror, path)} (in the mirror: ${existing === 'not-a-file' ? 'not a regular file' : `sha256 ${existing}`}; downloaded: sha256 ${file.sha256})`,
        );
      break;
    }
    if (!isPresent) placement.toAdd.push({ file, dest });
  }
  if (conflicts.length > 0) {
    throw new FileConflictError(
      `${conflicts.length} downloaded file(s) differ from the file of the same name in the mirror; nothing was added (dib-pypi never overwrites a distribution):\n${conflicts.map((c) => `  ${c}`).join('\n')}`,
      conflicts.map((c) => c.split(' ')[0] as string),
    );
  }
  return placement;
}

/** Hard-link `source` at `dest` (fails if `dest` exists: never overwrites), copying first when they are on different file systems. */
function linkNoClobber(source: string, dest: string): void {
  try {
    linkSync(source, dest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const temp = join(dirname(dest), `.${basename(dest)}.tmp-${process.pid}-add`);
    copyFileSync(source, temp);
    try {
      fsyncPath(temp);
      linkSync(temp, dest);
    } finally {
      rmSync(temp, { force: true });
    }
  }
}

/** Move the planned files in: each appears whole or not at all; directories fsynced. Returns what was added. */
export function placeFiles(mirror: string, placement: Placement, onFile?: (done: number, total: number) => void): PlacedFile[] {
  const added: PlacedFile[] = [];
  const dirs = new Set<string>();
  for (const [i, { file, dest }] of placement.toAdd.entries()) {
    mkdirSync(dirname(dest), { recursive: true });
    fsyncPath(file.source);
    try {
      linkNoClobber(file.source, dest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new FileConflictError(`${relative(mirror, dest)} appeared in the mirror while dib-pypi was adding it (another run?); run mirror add again`, [
          dest,
        ]);
      throw error;
    }
    rmSync(file.source, { force: true });
    dirs.add(dirname(dest));
    added.push({ path: relative(mirror, dest), project: file.project, version: file.version, size: file.size, sha256: file.sha256 });
    onFile?.(i + 1, placement.toAdd.length);
  }
  for (const dir of [...dirs, mirror]) fsyncPath(dir);
  return added;
}
