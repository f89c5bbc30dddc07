// The page a pull-through cache serves for a project: upstream's files, links pointing at this server (pure).
import { sortVersions } from '../pypi/sort-versions.js';
import { fileBelongsTo } from '../mirror/store/file-owner.js';
import { parseDistFilename } from '../pypi/dist-filename.js';
import { encodeSegment, type PageFile, type ProjectPage } from '../pypi/render-pages.js';
import type { UpstreamFile } from '../upstream/simple-model.js';

export interface ProxyPage {
  page: ProjectPage;
  /** Upstream entries left off the page, one line each. */
  problems: string[];
}

export interface ProxyPageOptions {
  /** Files whose size the upstream gives and that are bigger are left off (they could not be fetched). */
  maxFileBytes?: number;
}

/**
 * Upstream's files (the ones this server can verify and store: with a sha256, a distribution file
 * name of this very project, not too big), linked relative to the page so that the file requests
 * come here, plus local files upstream does not list (e.g. kept after upstream removed them).
 * Sorted by file name, as local pages are.
 */
export function buildProxyPage(project: string, upstream: readonly UpstreamFile[], local: readonly PageFile[], options: ProxyPageOptions = {}): ProxyPage {
  const problems: string[] = [];
  const byName = new Map<string, PageFile>();
  const versions: string[] = [];
  for (const file of upstream) {
    const parsed = parseDistFilename(file.filename);
    const sha256 = file.hashes.sha256;
    if (parsed === undefined) {
      problems.push(`${file.filename}: not a distribution file name`);
      continue;
    }
    if (!fileBelongsTo(file.filename, project)) {
      problems.push(`${file.filename}: a file of ${parsed.normalized}, not of ${project}: left off (one index must not add versions to another project)`);
      continue;
    }
    if (sha256 === undefined) {
      problems.push(`${file.filename}: upstream gives no sha256, so a download could not be verified`);
      continue;
    }
    if (file.size !== undefined && options.maxFileBytes !== undefined && file.size > options.maxFileBytes) {
      problems.push(`${file.filename}: ${file.size} bytes, larger than the limit of ${options.maxFileBytes}`);
      continue;
    }
    if (byName.has(file.filename)) continue;
    const entry: PageFile = { filename: file.filename, url: encodeSegment(file.filename), sha256 };
    if (file.size !== undefined) entry.size = file.size;
    if (file.requiresPython !== undefined) entry.requiresPython = file.requiresPython;
    if (typeof file.coreMetadata === 'object' && file.coreMetadata.sha256 !== undefined) entry.coreMetadataSha256 = file.coreMetadata.sha256;
    if (file.yanked !== undefined) entry.yanked = file.yanked;
    if (file.uploadTime !== undefined) entry.uploadTime = file.uploadTime;
    byName.set(file.filename, entry);
    versions.push(parsed.version);
  }
  for (const file of local) {
    if (byName.has(file.filename)) continue;
    byName.set(file.filename, file);
    const parsed = parseDistFilename(file.filename);
    if (parsed !== undefined) versions.push(parsed.version);
  }
  const files = [...byName.values()].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  return { page: { name: project, versions: sortVersions(versions), files }, problems };
}

/**
 * Upstream's files that are kept here (`isKept(name)`), for a page served while upstream cannot be
 * asked: PEP 658 metadata is advertised only when its `.metadata` is kept too (else pip reads the wheel).
 */
export function keptFiles(files: readonly UpstreamFile[], isKept: (name: string) => boolean): UpstreamFile[] {
  const kept: UpstreamFile[] = [];
  for (const file of files) {
    if (!isKept(file.filename)) continue;
    if (file.coreMetadata === undefined || isKept(`${file.filename}.metadata`)) kept.push(file);
    else {
      const { coreMetadata: _dropped, ...rest } = file;
      kept.push(rest);
    }
  }
  return kept;
}

/** The files of a local project page (DIR/<project>/index.json, as `mirror index` writes it), as page entries. */
export function localPageFiles(json: string): PageFile[] {
  const parsed = JSON.parse(json) as { files?: unknown };
  if (!Array.isArray(parsed.files)) return [];
  const files: PageFile[] = [];
  for (const raw of parsed.files as Record<string, unknown>[]) {
    const hashes = raw.hashes as Record<string, unknown> | undefined;
    if (typeof raw.filename !== 'string' || typeof raw.url !== 'string' || typeof hashes?.sha256 !== 'string') continue;
    const file: PageFile = { filename: raw.filename, url: raw.url, sha256: hashes.sha256 };
    if (typeof raw.size === 'number') file.size = raw.size;
    if (typeof raw['requires-python'] === 'string') file.requiresPython = raw['requires-python'];
    const core = raw['core-metadata'] as Record<string, unknown> | undefined;
    if (typeof core?.sha256 === 'string') file.coreMetadataSha256 = core.sha256;
    if (raw.yanked === true || typeof raw.yanked === 'string') file.yanked = raw.yanked;
    if (typeof raw['upload-time'] === 'string') file.uploadTime = raw['upload-time'];
    files.push(file);
  }
  return files;
}
