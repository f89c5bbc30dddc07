// Distribution file names: wheels per the binary distribution format spec, sdists per PEP 625 and the legacy forms pip still reads. Pure.
import { valid as validVersion } from '@renovatebot/pep440';
import type { DistFilename } from './types.js';
import { isValidProjectName, normalizeProjectName } from './project-name.js';

/** Sdist archive suffixes we index, longest first so `.tar.gz` wins over `.tar`. */
export const SDIST_SUFFIXES = ['.tar.bz2', '.tar.gz', '.tar.xz', '.tgz', '.tar', '.zip'] as const;

const WHEEL_SUFFIX = '.whl';

/** A file-name part: not empty, no whitespace, no path separator. */
function isPart(part: string | undefined): part is string {
  return part !== undefined && part !== '' && !/[\s/\\]/.test(part);
}

/** The stem of an sdist file name (the suffix removed), or undefined when it has none of ours. */
export function sdistStem(filename: string): string | undefined {
  const suffix = SDIST_SUFFIXES.find((s) => filename.endsWith(s));
  return suffix === undefined ? undefined : filename.slice(0, -suffix.length);
}

/**
 * Wheel spec: `{distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl`,
 * the build tag starting with a digit. pip (`pip/_internal/models/wheel.py`) reads `_` in the
 * version as `-` (old escaping), so `1.0_1` is the post-release `1.0-1`; so do we.
 */
function parseWheelFilename(filename: string): DistFilename | undefined {
  const parts = filename.slice(0, -WHEEL_SUFFIX.length).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  if (!parts.every(isPart)) return undefined;
  const [name, rawVersion] = parts as [string, string];
  const [pythonTag, abiTag, platformTag] = parts.slice(-3) as [string, string, string];
  const build = parts.length === 6 ? parts[2] : undefined;
  if (build !== undefined && !/^\d/.test(build)) return undefined;
  if (!isValidProjectName(name)) return undefined;
  const version = rawVersion.replaceAll('_', '-');
  if (validVersion(version) === null) return undefined;
  const parsed: DistFilename = { kind: 'wheel', name, normalized: normalizeProjectName(name), version };
  if (build !== undefined) parsed.build = build;
  return Object.assign(parsed, { pythonTag, abiTag, platformTag });
}

/**
 * PEP 625 (`{name_with_underscores}-{version}.tar.gz`) and legacy sdists whose name holds `-`
 * (`python-dateutil-2.8.2.tar.gz`): split at the first `-` followed by a valid PEP 440 version.
 * A name ending in a version-like part is ambiguous; `sdistNameMatches` settles it per project.
 */
function parseSdistFilename(stem: string): DistFilename | undefined {
  if (/[\s/\\]/.test(stem)) return undefined;
  for (let dash = stem.indexOf('-'); dash !== -1; dash = stem.indexOf('-', dash + 1)) {
    const name = stem.slice(0, dash);
    const version = stem.slice(dash + 1);
    if (validVersion(version) === null) continue;
    if (!isValidProjectName(name)) return undefined;
    return { kind: 'sdist', name, normalized: normalizeProjectName(name), version };
  }
  return undefined;
}

/** A wheel or sdist file name, parsed; undefined for any other file (`.egg`, `.exe`, `README`, bad names or versions). */
export function parseDistFilename(filename: string): DistFilename | undefined {
  if (filename.endsWith(WHEEL_SUFFIX)) return parseWheelFilename(filename);
  const stem = sdistStem(filename);
  return stem === undefined ? undefined : parseSdistFilename(stem);
}

/**
 * The version a distribution file has for `projectName`, or undefined when the file is not that
 * project's. For sdists this is pip's `_extract_version_from_fragment` / `_find_name_version_sep`
 * (`pip/_internal/index/package_finder.py`): the first `-` whose prefix normalises to the
 * project's name, and the non-empty rest. So `foo-v2-1.tar.gz` is `foo` version `v2-1` and
 * `foo-v2` version `1`, whatever `parseDistFilename` chose.
 */
export function sdistVersionFor(filename: string, projectName: string): string | undefined {
  const wanted = normalizeProjectName(projectName);
  if (filename.endsWith(WHEEL_SUFFIX)) {
    const wheel = parseWheelFilename(filename);
    return wheel?.normalized === wanted ? wheel.version : undefined;
  }
  const stem = sdistStem(filename);
  if (stem === undefined) return undefined;
  for (let dash = stem.indexOf('-'); dash !== -1; dash = stem.indexOf('-', dash + 1)) {
    if (normalizeProjectName(stem.slice(0, dash)) === wanted) return dash + 1 < stem.length ? stem.slice(dash + 1) : undefined;
  }
  return undefined;
}

/** Whether a distribution file belongs to `projectName`, as pip decides for legacy sdist names (see `sdistVersionFor`). */
export function sdistNameMatches(filename: string, projectName: string): boolean {
  return sdistVersionFor(filename, projectName) !== undefined;
}

const DIST_EXTENSION = /\.(whl|tar\.gz|tgz|zip|tar\.bz2|tar\.xz|tar|egg)$/i;

/** Names that look like distribution files (the index reports those that then do not parse). */
export function isDistName(name: string): boolean {
  return DIST_EXTENSION.test(name);
}
