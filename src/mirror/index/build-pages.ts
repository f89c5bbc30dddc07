// From file records to the page model: group by project, relative URLs, sidecars, PEP 440 version order (src/pypi/sort-versions.ts). Pure.
import { posix } from 'node:path';
import type { FileRecord, SidecarRecord } from '../store/manifest.js';
import { encodeSegment, type PageFile, type ProjectPage } from '../../pypi/render-pages.js';
import { sortVersions } from '../../pypi/sort-versions.js';

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
