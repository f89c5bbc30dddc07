// Which member of a wheel is its METADATA, and whether that METADATA is the wheel's (the rules pip applies).
import { eq as versionsEqual, valid as validVersion } from '@renovatebot/pep440';
import type yauzl from 'yauzl';
import { normalizeProjectName } from '../../pypi/project-name.js';
import type { CoreMetadata, DistFilename } from '../../pypi/types.js';
import { broken } from './read-distribution.js';
import { findMember } from './zip-members.js';

/** `-`, `_`, `.` runs as `_`, lower case: how wheel and `.dist-info` names compare (wheel spec, escaped names). */
function distInfoKey(text: string): string {
  return text.replace(/[-_.]+/g, '_').toLowerCase();
}

/**
 * The wheel's `.dist-info/METADATA`: the directory whose name is the file's `name-version`
 * (compared as escaped names). Failing that, as pip's `wheel_dist_info_dir`
 * (`pip/_internal/utils/wheel.py`): the only `.dist-info` whose normalised name starts with the project's.
 */
export async function findWheelMetadata(zip: yauzl.ZipFile, filename: DistFilename): Promise<yauzl.Entry | undefined> {
  const wanted = distInfoKey(`${filename.name}-${filename.version}.dist-info`) + '/METADATA';
  const isMetadata = (name: string) => name.endsWith('.dist-info/METADATA') && name.indexOf('/') === name.length - '/METADATA'.length;
  const others: yauzl.Entry[] = [];
  const exact = await findMember(
    zip,
    (name) => isMetadata(name) && distInfoKey(name.slice(0, -'/METADATA'.length)) + '/METADATA' === wanted,
    (entry) => {
      if (isMetadata(entry.fileName)) others.push(entry);
    },
  );
  if (exact !== undefined) return exact;
  const prefixed = others.filter((entry) => normalizeProjectName(entry.fileName).startsWith(filename.normalized));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

function isSameVersion(a: string, b: string): boolean {
  return validVersion(a) !== null && validVersion(b) !== null ? versionsEqual(a, b) : a === b;
}

/**
 * pip (`_check_metadata_consistency`, resolution/resolvelib/candidates.py) refuses a wheel whose
 * METADATA names another project or version than its file name; so do we, before serving it.
 */
export function checkWheelCore(core: CoreMetadata, filename: DistFilename, path: string): void {
  if (normalizeProjectName(core.name) !== filename.normalized) throw broken(path, `METADATA names project "${core.name}", the file name "${filename.name}"`);
  if (!isSameVersion(core.version, filename.version)) throw broken(path, `METADATA has version "${core.version}", the file name "${filename.version}"`);
}

/** As findWheelMetadata, on a whole central directory (or the strict path's kept entries). */
export function wheelMetadataEntry<T extends { name: string }>(entries: T[], filename: DistFilename): T | undefined {
  const wanted = distInfoKey(`${filename.name}-${filename.version}.dist-info`) + '/METADATA';
  const isMetadata = (name: string) => name.endsWith('.dist-info/METADATA') && name.indexOf('/') === name.length - '/METADATA'.length;
  const candidates = entries.filter((e) => isMetadata(e.name));
  const exact = candidates.find((e) => distInfoKey(e.name.slice(0, -'/METADATA'.length)) + '/METADATA' === wanted);
  if (exact !== undefined) return exact;
  const prefixed = candidates.filter((e) => normalizeProjectName(e.name).startsWith(filename.normalized));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
