// Which upstream files a sync keeps: Python version, platform, package type, extension, size, exclusions,
// latest-N releases. Pure: a project's files and the filters in, kept and skipped (with reasons) out.
import { compare, explain, satisfies, validRange } from '@renovatebot/pep440';
import type { UpstreamFile } from '../../upstream/simple-model.js';
import { parseDistFilename, sdistVersionFor } from '../../pypi/dist-filename.js';
import { normalizeProjectName } from '../../pypi/project-name.js';

export interface SyncFilters {
  /** `3.11`: keep files whose tags or requires-python fit one of these (empty: all). */
  pythonVersions: string[];
  /** `manylinux_2_17_x86_64`: keep wheels for one of these, plus pure wheels and sdists (empty: all). */
  platforms: string[];
  /** Empty: both. */
  packageTypes: ('wheel' | 'sdist')[];
  /** `.whl`, `.tar.gz` (empty: all). */
  extensions: string[];
  /** Keep only the files of the newest N releases (after the other filters). */
  latest?: number;
  /** With `latest`: count pre-releases too. */
  isPreIncluded: boolean;
  /** Glob patterns (`*`, `?`) matched against normalised project names and file names. */
  exclude: string[];
  maxFileSize?: number;
}

export const NO_FILTERS: SyncFilters = { pythonVersions: [], platforms: [], packageTypes: [], extensions: [], isPreIncluded: false, exclude: [] };

export interface FilteredFile {
  file: UpstreamFile;
  version: string;
  kind: 'wheel' | 'sdist';
}

export interface FilterResult {
  kept: FilteredFile[];
  skipped: { file: UpstreamFile; reason: string }[];
}

/** A shell-style glob as a whole-string regex, case-insensitive. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${body}$`, 'i');
}

/** Whether a whole project is excluded by name. */
export function isProjectExcluded(project: string, filters: SyncFilters): boolean {
  const name = normalizeProjectName(project);
  return filters.exclude.some((p) => globToRegExp(p).test(name) || globToRegExp(normalizeProjectName(p)).test(name));
}

/** `3.11` -> [3, 11]; `3` -> [3, undefined]. */
function splitVersion(version: string): [number, number | undefined] {
  const [major, minor] = version.split('.');
  return [Number(major), minor === undefined ? undefined : Number(minor)];
}

/**
 * Whether one wheel python tag fits a target version: `py3`/`cp3` any 3.x; `cp311`/`py311`/`pp311`
 * exactly 3.11; with an `abi3` ABI tag, `cp38` fits every 3.x from 3.8 on (the stable ABI).
 */
export function pythonTagFits(tag: string, abiTags: string[], target: string): boolean {
  const match = /^[a-z]+(\d)(\d*)$/.exec(tag);
  if (!match) return false;
  const [major, minor] = splitVersion(target);
  const tagMajor = Number(match[1]);
  if (tagMajor !== major) return false;
  if (match[2] === '' || minor === undefined) return true;
  const tagMinor = Number(match[2]);
  return abiTags.includes('abi3') ? tagMinor <= minor : tagMinor === minor;
}

function requiresPythonFits(spec: string | undefined, target: string): boolean {
  if (spec === undefined || !validRange(spec)) return true; // pip ignores an invalid requires-python
  const [major, minor] = splitVersion(target);
  return satisfies(minor === undefined ? `${major}` : target, spec);
}

/** manylinux1/2010/2014 as their PEP 600 names. */
const MANYLINUX_ALIASES: Record<string, string> = { manylinux1: 'manylinux_2_5', manylinux2010: 'manylinux_2_12', manylinux2014: 'manylinux_2_17' };

/** `manylinux_2_17_x86_64` -> family, glibc/musl/macOS version and arch; undefined for other platforms. */
function splitPlatform(tag: string): { family: string; version: [number, number]; arch: string } | undefined {
  let normalized = tag;
  for (const [alias, name] of Object.entries(MANYLINUX_ALIASES)) if (tag.startsWith(`${alias}_`)) normalized = `${name}${tag.slice(alias.length)}`;
  const match = /^(manylinux|musllinux|macosx)_(\d+)_(\d+)_(.+)$/.exec(normalized);
  if (!match) return undefined;
  return { family: match[1] as string, version: [Number(match[2]), Number(match[3])], arch: match[4] as string };
}

/** Whether a wheel's platform tag runs on a target platform: the same tag, or an older glibc/musl/macOS of the same arch. */
export function platformTagFits(tag: string, target: string): boolean {
  if (tag === target) return true;
  const have = splitPlatform(tag);
  const want = splitPlatform(target);
  if (!have || !want || have.family !== want.family) return false;
  const isArchOk =
    have.arch === want.arch ||
    (have.family === 'macosx' && (have.arch === 'universal2' || have.arch === 'universal') && ['x86_64', 'arm64'].includes(want.arch));
  const [hm, hn] = have.version;
  const [wm, wn] = want.version;
  return isArchOk && (hm < wm || (hm === wm && hn <= wn));
}

/** Why a file is not kept by the per-file filters, or undefined when it is. */
function rejectReason(entry: FilteredFile, filters: SyncFilters): string | undefined {
  const { file, kind } = entry;
  if (filters.exclude.some((p) => globToRegExp(p).test(file.filename))) return 'excluded';
  if (filters.packageTypes.length > 0 && !filters.packageTypes.includes(kind)) return `package type ${kind}`;
  if (filters.extensions.length > 0 && !filters.extensions.some((e) => file.filename.toLowerCase().endsWith(e.toLowerCase()))) return 'extension';
  if (filters.maxFileSize !== undefined && file.size !== undefined && file.size > filters.maxFileSize) return `larger than ${filters.maxFileSize} bytes`;
  const wheel = kind === 'wheel' ? parseDistFilename(file.filename) : undefined;
  if (filters.pythonVersions.length > 0) {
    const pythonTags = wheel?.pythonTag?.split('.') ?? [];
    const abiTags = wheel?.abiTag?.split('.') ?? [];
    const fits = filters.pythonVersions.some(
      (v) => requiresPythonFits(file.requiresPython, v) && (wheel === undefined || pythonTags.some((t) => pythonTagFits(t, abiTags, v))),
    );
    if (!fits) return `not for Python ${filters.pythonVersions.join(', ')}`;
  }
  if (filters.platforms.length > 0 && wheel !== undefined) {
    const tags = wheel.platformTag?.split('.') ?? [];
    if (!tags.includes('any') && !tags.some((t) => filters.platforms.some((p) => platformTagFits(t, p)))) return `not for ${filters.platforms.join(', ')}`;
  }
  return undefined;
}

/**
 * The newest `n` releases (PEP 440 order) among the kept files; pre-releases only when asked, or, as
 * pip does (packaging's SpecifierSet.filter), when the project has no final release at all. Yanked-only
 * releases do not count.
 */
function latestVersions(kept: FilteredFile[], n: number, isPreIncluded: boolean): Set<string> {
  const finals = new Set<string>(); // PEP 440-normalised
  const pres = new Set<string>();
  for (const entry of kept) {
    if (entry.file.yanked !== undefined) continue;
    const info = explain(entry.version);
    if (info === null) continue;
    (info.is_prerelease || info.is_devrelease ? pres : finals).add(info.public);
  }
  const candidates = isPreIncluded || finals.size === 0 ? [...finals, ...pres] : [...finals];
  return new Set(candidates.sort((a, b) => compare(b, a)).slice(0, n));
}

/** Why nothing of a project is kept: its skipped files' reasons, counted ("2 package type sdist, 1 excluded"). */
export function emptyReason(result: FilterResult): string {
  if (result.skipped.length === 0) return 'the upstream lists no files';
  const counts = new Map<string, number>();
  for (const { reason } of result.skipped) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  const reasons = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([reason, count]) => `${count} ${reason}`);
  return `no file passes the filters (${reasons.join(', ')})`;
}

/** Apply the filters to one project's files. Files that are not a wheel or sdist of this project are skipped with a reason. */
export function filterProjectFiles(project: string, files: readonly UpstreamFile[], filters: SyncFilters): FilterResult {
  const result: FilterResult = { kept: [], skipped: [] };
  for (const file of files) {
    const parsed = parseDistFilename(file.filename);
    const version = parsed ? sdistVersionFor(file.filename, project) : undefined;
    if (parsed === undefined || version === undefined) {
      result.skipped.push({ file, reason: `not a wheel or sdist of ${project}` });
      continue;
    }
    const entry: FilteredFile = { file, version, kind: parsed.kind };
    const reason = rejectReason(entry, filters);
    if (reason === undefined) result.kept.push(entry);
    else result.skipped.push({ file, reason });
  }
  if (filters.latest !== undefined) {
    const wanted = latestVersions(result.kept, filters.latest, filters.isPreIncluded);
    const all = result.kept;
    result.kept = [];
    for (const entry of all) {
      const info = explain(entry.version);
      if (info !== null && wanted.has(info.public)) result.kept.push(entry);
      else result.skipped.push({ file: entry.file, reason: `not among the latest ${filters.latest} releases` });
    }
  }
  return result;
}
