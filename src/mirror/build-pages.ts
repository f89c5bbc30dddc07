// From file records to the page model: group by project, relative URLs, sidecars, PEP 440 version order. Pure.
import { compare, valid } from '@renovatebot/pep440';
import { posix } from 'node:path';
import type { FileRecord, SidecarRecord } from './manifest.js';
import { normalizeProjectName } from './project-name.js';
import { encodeSegment, type PageFile, type ProjectPage } from './render-pages.js';
import type { CoreMetadata, DistFilename } from './types.js';
import { sdistVersionFor } from './dist-filename.js';

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

/** URL of a file relative to its project's page at `<project>/`. */
export function relativeUrl(project: string, path: string): string {
  const dir = posix.dirname(path);
  if (dir === project) return encodeSegment(posix.basename(path));
  return '../' + path.split('/').map(encodeSegment).join('/');
}

/** A version that is only a release segment (`1.2.10`): PEP 440 orders these by their numbers alone. */
const PLAIN_RELEASE = /^\d+(?:\.\d+)*$/;

/** Two plain releases in PEP 440 order: number by number, a missing one counting as 0 (`1.0` equals `1.0.0`). */
function comparePlainReleases(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = Number(x[i] ?? 0);
    const q = Number(y[i] ?? 0);
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Distinct versions in PEP 440 order (text order for versions PEP 440 cannot parse; text order
 * between versions PEP 440 holds equal). Plain releases, most versions, are compared without
 * the PEP 440 parser, which parses both versions anew on every comparison (a large part of the
 * main thread's work in a full index).
 */
export function sortVersions(versions: Iterable<string>): string[] {
  const kinds = new Map<string, 'plain' | 'pep440' | 'other'>();
  for (const version of versions) if (!kinds.has(version)) kinds.set(version, PLAIN_RELEASE.test(version) ? 'plain' : valid(version) ? 'pep440' : 'other');
  return [...kinds.keys()].sort((a, b) => {
    const ka = kinds.get(a);
    const kb = kinds.get(b);
    if (ka === 'plain' && kb === 'plain') return comparePlainReleases(a, b) || byText(a, b);
    if (ka !== 'other' && kb !== 'other') return compare(a, b) || byText(a, b);
    return byText(a, b);
  });
}

/** The page of `project` listing `paths` (relative to the mirror), sorted by file name. */
export function buildProjectPage(
  project: string,
  paths: readonly string[],
  files: Readonly<Record<string, FileRecord>>,
  sidecars: Readonly<Record<string, SidecarRecord>>,
): ProjectPage {
  const entries: PageFile[] = paths.map((path) => {
    const record = files[path] as FileRecord;
    const file: PageFile = { filename: posix.basename(path), url: relativeUrl(project, path), sha256: record.sha256 as string, size: record.size };
    if (record.requiresPython !== undefined) file.requiresPython = record.requiresPython;
    if (record.metadataSha256 !== undefined) file.coreMetadataSha256 = record.metadataSha256;
    const yanked = sidecars[`${path}.yanked`];
    if (yanked !== undefined) file.yanked = yanked.text === '' ? true : yanked.text;
    const uploadTime = sidecars[`${path}.upload-time`];
    if (uploadTime !== undefined && uploadTime.text !== '') file.uploadTime = uploadTime.text;
    return file;
  });
  entries.sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : a.url < b.url ? -1 : 1));
  const versions = sortVersions(paths.map((p) => (files[p] as FileRecord).version as string));
  return { name: project, versions, files: entries };
}
