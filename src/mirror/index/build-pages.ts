// From file records to the page model: group by project, relative URLs, sidecars, PEP 440 version order (src/pypi/sort-versions.ts). Pure.
import { valid } from '@renovatebot/pep440';
import { posix } from 'node:path';
import type { FileRecord, SidecarRecord } from '../store/manifest.js';
import { normalizeProjectName } from '../../pypi/project-name.js';
import { encodeSegment, type PageFile, type ProjectPage } from '../../pypi/render-pages.js';
import type { CoreMetadata, DistFilename } from '../../pypi/types.js';
import { sdistVersionFor } from '../../pypi/dist-filename.js';
import { sortVersions } from '../../pypi/sort-versions.js';

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
