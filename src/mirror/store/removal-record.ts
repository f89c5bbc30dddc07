// The removal record of a project, `DIR/.dib-pypi/removed/<project>.json`: what `mirror remove` took out of the
// mirror, so that the pull-through cache never fetches it back from an upstream, until `mirror remove --forget`.
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { eq, valid } from '@renovatebot/pep440';
import { fsyncPath } from '../../fs/atomic-write.js';
import { replaceFile } from '../../fs/replace-file.js';
import { parseDistFilename } from '../../pypi/dist-filename.js';
import { removalRecordPath } from './layout.js';

/** What of one project is removed: all of it, whole versions (any file of them, also ones upstream adds later), single files. */
export interface RemovalRecord {
  project: string;
  whole: boolean;
  versions: string[];
  files: string[];
}

/** What one removal (or one forget) names: the project, one version of it, or one file. */
export interface RemovalTarget {
  project: string;
  version?: string;
  file?: string;
}

const RECORD_VERSION = 1;

/** PEP 440 equality where both parse (`1.0` is `1`), else the same text. */
export function isSameVersion(a: string, b: string): boolean {
  if (a === b) return true;
  return valid(a) !== null && valid(b) !== null && eq(a, b);
}

/** Whether upstream's `filename` of the record's project is removed (pure). */
export function isRemovedFile(record: RemovalRecord | undefined, filename: string): boolean {
  if (record === undefined) return false;
  if (record.whole || record.files.includes(filename)) return true;
  const version = parseDistFilename(filename)?.version;
  return version !== undefined && record.versions.some((v) => isSameVersion(v, version));
}

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** The record with `target` added (pure): a project makes it whole, a version adds the version, a file its name. */
export function addRemoval(record: RemovalRecord | undefined, target: RemovalTarget): RemovalRecord {
  const next: RemovalRecord = record === undefined ? { project: target.project, whole: false, versions: [], files: [] } : { ...record };
  if (target.file !== undefined) next.files = sorted([...next.files, target.file]);
  else if (target.version !== undefined) next.versions = sorted([...next.versions, target.version]);
  else next.whole = true;
  return next;
}

/**
 * The record without `target` (pure): a project forgets everything; a version forgets that version and
 * its single files; a file its own entry. `forgotten` is false when the record had nothing of the target.
 */
export function forgetRemoval(record: RemovalRecord | undefined, target: RemovalTarget): { record: RemovalRecord | undefined; forgotten: boolean } {
  if (record === undefined) return { record: undefined, forgotten: false };
  if (target.version === undefined && target.file === undefined) return { record: undefined, forgotten: true };
  const ofTarget = (name: string) =>
    target.file !== undefined ? name === target.file : isSameVersion(parseDistFilename(name)?.version ?? '', target.version as string);
  const files = record.files.filter((name) => !ofTarget(name));
  const versions = target.file !== undefined ? record.versions : record.versions.filter((v) => !isSameVersion(v, target.version as string));
  const forgotten = files.length !== record.files.length || versions.length !== record.versions.length;
  const next = { ...record, files, versions };
  return { record: !next.whole && files.length === 0 && versions.length === 0 ? undefined : next, forgotten };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The record of `project`; undefined when there is none. A damaged record removes everything of the project (the safe reading). */
export function readRemovalRecord(dir: string, project: string): RemovalRecord | undefined {
  let text: string;
  try {
    text = readFileSync(removalRecordPath(dir, project), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { project, whole: true, versions: [], files: [] };
  }
  try {
    const raw = JSON.parse(text) as Record<string, unknown>;
    if (raw.version === RECORD_VERSION && raw.project === project && typeof raw.whole === 'boolean' && isStringArray(raw.versions) && isStringArray(raw.files))
      return { project, whole: raw.whole, versions: raw.versions, files: raw.files };
  } catch {
    // falls through to the safe reading
  }
  return { project, whole: true, versions: [], files: [] };
}

/** A stamp that changes whenever the record of `project` is written or removed (the server re-renders pages then). */
export function removalRecordStamp(dir: string, project: string): string {
  const stat = statSync(removalRecordPath(dir, project), { throwIfNoEntry: false });
  return stat === undefined ? 'none' : `${stat.mtimeMs} ${stat.size} ${stat.ino}`;
}

/** Write the record of its project durably (or remove it: undefined for `project`). */
export function writeRemovalRecord(dir: string, project: string, record: RemovalRecord | undefined): void {
  const path = removalRecordPath(dir, project);
  if (record === undefined) {
    if (!existsSync(path)) return;
    rmSync(path, { force: true });
  } else {
    mkdirSync(dirname(path), { recursive: true });
    const { whole, versions, files } = record;
    replaceFile(path, `${JSON.stringify({ version: RECORD_VERSION, project, whole, versions, files }, null, 2)}\n`);
    fsyncPath(path);
  }
  fsyncPath(dirname(path));
}
