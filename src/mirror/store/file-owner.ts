// Which project a distribution file belongs to, the one rule for every writer of the mirror (pure): a
// wheel is its name's; an sdist is stored under a project only when its name has one reading.
import { valid } from '@renovatebot/pep440';
import { parseDistFilename, sdistStem, sdistVersionFor } from '../../pypi/dist-filename.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import type { CoreMetadata, DistFilename } from '../../pypi/types.js';

/**
 * The project a file belongs to: the wheel's name, or for an sdist whose legacy file name is
 * ambiguous (`foo-bar-1.0.tar.gz`), the PKG-INFO name when the file name agrees with it and what
 * the name leaves over is a PEP 440 version. Without that check, `foo-bar-1.0.tar.gz` whose PKG-INFO
 * says `foo` would land on `foo`'s page (perhaps a private project's) as version `bar-1.0`.
 */
export function projectOfRecord(basename: string, filename: DistFilename, core: CoreMetadata | undefined): string {
  if (filename.kind === 'sdist' && core !== undefined) {
    const version = sdistVersionFor(basename, core.name);
    if (version !== undefined && valid(version) !== null) return normalizeProjectName(core.name);
  }
  return filename.normalized;
}

/**
 * Whether a distribution file is `project`'s, so that the proxy may list, fetch and store it under
 * DIR/<project>/: a wheel by its name; an sdist only when pip reads it as `project`'s
 * (`sdistVersionFor`, pip's `_find_name_version_sep`: the first `-` whose prefix normalises to the
 * project) with the version `mirror index` reads too, and no other split of its name gives a
 * project and a valid version. Such a legacy name (`a-1-2.tar.gz`: `a` 1.post2, or `a-1` 2) is
 * placed by the index as its PKG-INFO says, so it could land on another project's page: refused.
 * PEP 625 names (`a_1-2.tar.gz`) have one `-` and are never ambiguous.
 */
export function fileBelongsTo(filename: string, project: string): boolean {
  const parsed = parseDistFilename(filename);
  if (parsed === undefined || parsed.normalized !== normalizeProjectName(project)) return false;
  if (parsed.kind === 'wheel') return true;
  if (sdistVersionFor(filename, project) !== parsed.version) return false;
  const stem = sdistStem(filename) as string;
  const chosen = stem.length - parsed.version.length - 1;
  // Any other `-` with a valid name before it and a valid version after it would be a second reading.
  for (let dash = stem.indexOf('-'); dash !== -1; dash = stem.indexOf('-', dash + 1)) {
    if (dash !== chosen && isValidProjectName(stem.slice(0, dash)) && valid(stem.slice(dash + 1)) !== null) return false;
  }
  return true;
}
