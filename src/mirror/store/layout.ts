// The mirror's layout on disk, named once: `DIR/<project>/<file>` with its sidecars, and the state
// directory `DIR/.dib-pypi/` (manifest, locks, journals, upload temps, private markers, kept upstream pages).
import { join } from 'node:path';
import { PART_MARK } from '../../upstream/part-path.js';
import { TEMP_NAME } from '../../fs/replace-file.js';
import { isDistName } from '../../pypi/dist-filename.js';

/** Never served, never indexed: what dib-pypi keeps about the mirror, inside it. */
export const STATE_DIR = '.dib-pypi';

/** PEP 592 / PEP 700 beside a distribution file: `.yanked` holds the reason (may be empty), `.upload-time` the upload time. */
export const YANKED = '.yanked';
export const UPLOAD_TIME = '.upload-time';
export const SIDECARS = [YANKED, UPLOAD_TIME] as const;

export function isSidecar(name: string): boolean {
  return SIDECARS.some((s) => name.endsWith(s));
}

/** The text of an `.upload-time` sidecar: the time as given, one line. */
export function uploadTimeText(time: string): string {
  return `${time}\n`;
}

/** Where a distribution file of `project` goes: its project's directory. */
export function distPath(dir: string, project: string, filename: string): string {
  return join(dir, project, filename);
}

export function stateDir(dir: string): string {
  return join(dir, STATE_DIR);
}

/** Where uploads are received before they are checked: inside DIR (same file system: rename is atomic), never served. */
export function uploadTempDir(dir: string): string {
  return join(dir, STATE_DIR, 'uploads');
}

/** Projects with private uploads: a marker file per project. */
export function privateDir(dir: string): string {
  return join(dir, STATE_DIR, 'private');
}

export function privateMarker(dir: string, project: string): string {
  return join(privateDir(dir), project);
}

/** What the pull-through cache keeps of upstream's page of `project` (listing, pages, `.metadata` files). */
export function upstreamStateDir(dir: string, project: string): string {
  return join(dir, STATE_DIR, 'upstream', project);
}

/** The jobs that take the mirror's lock, one of each kind at a time: `DIR/.dib-pypi/<job>.lock` (`change`: remove, yank). */
export type MirrorJob = 'index' | 'sync' | 'change';

/** The removal record of `project`: which of its files the mirror must not take back from an upstream. */
export function removalRecordPath(dir: string, project: string): string {
  return join(dir, STATE_DIR, 'removed', `${project}.json`);
}

/** Removals under way: one directory each, holding its journal and the files moved out of the mirror. */
export function removingDir(dir: string): string {
  return join(dir, STATE_DIR, 'removing');
}

/** The text of a `.yanked` sidecar: empty for no reason, else the reason and a newline (as sync writes it). */
export function yankedText(reason: string | undefined): string {
  return reason === undefined || reason === '' ? '' : `${reason}\n`;
}

export function lockPath(dir: string, job: MirrorJob): string {
  return join(dir, STATE_DIR, `${job}.lock`);
}

/** `mirror add`'s work directories in the state directory: `add-<pid>-XXXXXX`. */
export function addWorkPrefix(pid: number): string {
  return `add-${pid}-`;
}

/** The pid of the `mirror add` run whose work directory this is, if it is one. */
export function addWorkOwner(name: string): number | undefined {
  const pid = /^add-(\d+)-/.exec(name)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** `.<name>.part-<pid>-<n>`: the pid of the run that was downloading it. */
export function partOwner(name: string): number | undefined {
  const at = name.lastIndexOf(PART_MARK);
  if (!name.startsWith('.') || at === -1) return undefined;
  return Number.parseInt(name.slice(at + PART_MARK.length), 10);
}

/** A distribution file a project directory may hold: a wheel or sdist name, not hidden (temps are). */
export function isVisibleDist(name: string): boolean {
  return isDistName(name) && !name.startsWith('.');
}

/** What a project's directory may hold that sync or the index made (a removed project's other files are left, and so is the directory). */
export function isMirrorFile(name: string): boolean {
  return (
    isDistName(name) ||
    isSidecar(name) ||
    name === 'index.html' ||
    name === 'index.json' ||
    name.endsWith('.metadata') ||
    name.includes(PART_MARK) ||
    TEMP_NAME.test(name)
  );
}

/** dib-pypi serve --acl: who owns which project (the first uploader of a project the ACL does not name). */
export function ownersPath(dir: string): string {
  return join(dir, STATE_DIR, 'owners.json');
}
