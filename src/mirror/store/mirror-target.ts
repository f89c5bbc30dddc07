// What a change (remove, yank) names, checked and found in the mirror: a project, one version of it, or one
// distribution file, and the files on disk that are it (in DIR/<project>/ and loose at the top level).
import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DibPypiError, InputError } from '../../errors.js';
import { parseDistFilename } from '../../pypi/dist-filename.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import { isVisibleDist, UPLOAD_TIME, YANKED } from './layout.js';
import { isSameVersion, type RemovalTarget } from './removal-record.js';

/** The mirror has no such project, version or file: a failure (exit 1, HTTP 404), naming what was asked for. */
export class NotInMirrorError extends DibPypiError {
  readonly target: RemovalTarget;
  constructor(message: string, target: RemovalTarget) {
    super(message);
    this.target = target;
  }
}

/** A distribution file of the target, relative to the mirror (`<project>/<file>`, or `<file>` at the top level). */
export interface TargetFile {
  rel: string;
  name: string;
}

/** The files that go and come with a distribution file: its sidecars and its PEP 658 metadata. */
export const COMPANIONS = [YANKED, UPLOAD_TIME, '.metadata'] as const;

/** `project` and, when given, `version` and `file`, checked as input (bad ones throw InputError: exit 2). Pure. */
export function checkTarget(raw: { project: string; version?: string; file?: string }): RemovalTarget {
  if (!isValidProjectName(raw.project)) throw new InputError('project', `not a valid project name: ${JSON.stringify(raw.project)}`);
  const project = normalizeProjectName(raw.project);
  const target: RemovalTarget = { project };
  if (raw.version !== undefined) {
    if (!/^[\x21-\x7e]{1,128}$/.test(raw.version)) throw new InputError('version', `not a version: ${JSON.stringify(raw.version)}`);
    target.version = raw.version;
  }
  if (raw.file === undefined) return target;
  const file = raw.file;
  if (/[/\\\0]/.test(file) || file === '.' || file === '..') throw new InputError('file', `a file name, not a path: ${JSON.stringify(file)}`);
  const parsed = file.startsWith('.') ? undefined : parseDistFilename(file);
  if (parsed === undefined) throw new InputError('file', `not a distribution file name (wheel or sdist): ${JSON.stringify(file)}`);
  if (parsed.normalized !== project) throw new InputError('file', `${file} is not a file of project ${project}`);
  if (target.version !== undefined && !isSameVersion(parsed.version, target.version))
    throw new InputError('file', `${file} is not a file of ${project}==${target.version}`);
  target.file = file;
  return target;
}

/** The target as the user names it: `project`, `project==version`, `project/file`. */
export function describeTarget(target: RemovalTarget): string {
  return target.file !== undefined
    ? `${target.project}/${target.file}`
    : target.version !== undefined
      ? `${target.project}==${target.version}`
      : target.project;
}

function listNames(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}

/** Whether DIR/<project>/ is a directory (a symlink is not: the index never follows one, and a removal must not either). */
export function hasProjectDir(dir: string, project: string): boolean {
  const stat = lstatSync(join(dir, project), { throwIfNoEntry: false });
  return stat?.isDirectory() === true;
}

/**
 * The distribution files of `target` in the mirror: DIR/<project>/ and loose files at the top level whose
 * name makes them the project's. Nothing found throws NotInMirrorError naming the project, version or file.
 */
export function findTargetFiles(dir: string, target: RemovalTarget): TargetFile[] {
  const { project } = target;
  const candidates: TargetFile[] = [];
  const inDir = hasProjectDir(dir, project) ? listNames(join(dir, project)) : [];
  for (const name of inDir) if (isVisibleDist(name)) candidates.push({ rel: `${project}/${name}`, name });
  for (const name of listNames(dir)) if (isVisibleDist(name) && lstatSync(join(dir, name)).isFile()) candidates.push({ rel: name, name });
  const ofProject = candidates.filter((f) => parseDistFilename(f.name)?.normalized === project);
  if (ofProject.length === 0 && !hasProjectDir(dir, project)) throw new NotInMirrorError(`no project ${project} in the mirror ${dir}`, target);
  if (target.version === undefined && target.file === undefined) return ofProject;
  const ofVersion = ofProject.filter((f) =>
    isSameVersion(parseDistFilename(f.name)?.version ?? '', target.version ?? (parseDistFilename(target.file ?? '')?.version as string)),
  );
  if (target.file === undefined) {
    if (ofVersion.length === 0) throw new NotInMirrorError(`no version ${target.version} of ${project} in the mirror ${dir}`, target);
    return ofVersion;
  }
  const file = ofVersion.filter((f) => f.name === target.file);
  if (file.length === 0) throw new NotInMirrorError(`no file ${target.file} of ${project} in the mirror ${dir}`, target);
  return file;
}

/** The companions (sidecars, `.metadata`) of a file that exist, relative to the mirror. */
export function companionsOf(dir: string, file: TargetFile): string[] {
  return COMPANIONS.map((suffix) => `${file.rel}${suffix}`).filter((rel) => existsSync(join(dir, rel)));
}
