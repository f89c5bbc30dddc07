// Who owns which project (`DIR/.dib-pypi/owners.json`, serve --acl): read once, checked, and
// rewritten whole, atomically and durably (temp, fsync, rename, fsync the directory) on each change.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from '../../errors.js';
import { tempPathFor, writeFileAtomic } from '../../fs/atomic-write.js';
import { untrustedDir, untrustedFile } from '../../fs/trust-file.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import { sdistVersionFor } from '../../pypi/dist-filename.js';
import { isVisibleDist, ownersPath, privateMarker, stateDir } from './layout.js';

const VERSION = 1;

/** project (normalised) -> its owners, in the order they were added. */
export type ProjectOwners = ReadonlyMap<string, readonly string[]>;

function isUserList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((user) => typeof user === 'string' && user !== '');
}

/** The file's text -> owners; keys are normalised (two spellings of one project are merged). Throws the reason. */
export function parseOwners(text: string): Map<string, string[]> {
  const data = JSON.parse(text) as unknown;
  if (typeof data !== 'object' || data === null || (data as { version?: unknown }).version !== VERSION)
    throw new Error(`expected {"version": ${VERSION}, "projects": {...}}`);
  const projects = (data as { projects?: unknown }).projects;
  if (typeof projects !== 'object' || projects === null || Array.isArray(projects)) throw new Error('"projects" is not an object');
  const owners = new Map<string, string[]>();
  for (const [project, users] of Object.entries(projects)) {
    if (!isValidProjectName(project)) throw new Error(`${JSON.stringify(project)} is not a project name`);
    if (!isUserList(users)) throw new Error(`the owners of ${project} are not a list of user names`);
    const name = normalizeProjectName(project);
    const all = owners.get(name) ?? [];
    for (const user of users) if (!all.includes(user)) all.push(user);
    owners.set(name, all);
  }
  return owners;
}

/** Owners as the file holds them: projects sorted, fixed key order, one trailing newline. */
export function renderOwners(owners: ProjectOwners): string {
  const projects: Record<string, readonly string[]> = {};
  for (const name of [...owners.keys()].sort()) projects[name] = owners.get(name) as readonly string[];
  return `${JSON.stringify({ version: VERSION, projects }, null, 2)}\n`;
}

const CONSEQUENCE = 'whoever can write it decides who may upload';

/** The state directory, when it exists, must be one no one else could write: the owners file is created there. */
function checkStateDir(dir: string, trusted: ReadonlySet<number>): void {
  let untrusted: { path: string; reason: string } | undefined;
  try {
    untrusted = untrustedDir(stateDir(dir), trusted);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StateError(`cannot examine ${stateDir(dir)}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (untrusted !== undefined) throw new StateError(`untrusted owners file directory: ${untrusted.path} ${untrusted.reason}; ${CONSEQUENCE}`);
}

/**
 * The mirror's owners file, when there is one (none: no project has an owner yet). Refused when
 * someone other than root or `trusted` could have written it or its directory: whoever can write it
 * decides who may upload.
 */
export function readOwners(dir: string, trusted: ReadonlySet<number>): Map<string, string[]> {
  checkStateDir(dir, trusted);
  const path = ownersPath(dir);
  let text: string;
  try {
    if (lstatSync(path).isSymbolicLink()) throw new StateError(`untrusted owners file ${path}: is a symlink; ${CONSEQUENCE}`);
    const untrusted = untrustedFile(path, trusted, true);
    if (untrusted !== undefined) throw new StateError(`untrusted owners file: ${untrusted.path} ${untrusted.reason}; ${CONSEQUENCE}`);
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof StateError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new StateError(`cannot read the owners file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return parseOwners(text);
  } catch (error) {
    throw new StateError(`${path}: not an owners file: ${(error as Error).message} (docs/mirror-layout.md)`);
  }
}

/** Replace the owners file with `owners` (durable when it returns), in a state directory checked again first. */
export function writeOwners(dir: string, owners: ProjectOwners, trusted: ReadonlySet<number>): void {
  checkStateDir(dir, trusted);
  const path = ownersPath(dir);
  writeFileAtomic(path, tempPathFor(path), Buffer.from(renderOwners(owners)), { mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
}

function namesOf(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // no such directory (or not one): no files there
  }
}

/**
 * Whether the mirror has files of `project` (normalised) already, so that it is not new: a file in its
 * directory, a private marker (uploads were made), or a loose file at the top level that is, or could
 * be read as, the project's.
 */
export function projectHasFiles(dir: string, project: string): boolean {
  if (namesOf(join(dir, project)).some(isVisibleDist) || existsSync(privateMarker(dir, project))) return true;
  return namesOf(dir).some((name) => isVisibleDist(name) && sdistVersionFor(name, project) !== undefined);
}
