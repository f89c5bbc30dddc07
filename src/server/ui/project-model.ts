// A project's UI page from its PEP 691 page (index.json, api-version 1.1): versions newest first, files per version. Pure.
import { parseDistFilename } from '../../pypi/dist-filename.js';
import { sortVersions } from '../../pypi/sort-versions.js';
import type { FileView, ProjectView, VersionView } from './model.js';

/** The PEP 691 file fields read here; anything else in the page is ignored, a field of the wrong type is left out. */
interface JsonFile {
  filename?: unknown;
  url?: unknown;
  hashes?: unknown;
  size?: unknown;
  'upload-time'?: unknown;
  'requires-python'?: unknown;
  yanked?: unknown;
  'core-metadata'?: unknown;
}

/** Characters a description may have before the page cuts it (a page stays small whatever a package says). */
export const MAX_DESCRIPTION_CHARS = 100_000;

const ORIGIN = 'http://mirror.invalid';

/**
 * Where a file of project page `/<project>/` lives on this server (its path), from the page's URL
 * for it; undefined for a URL elsewhere (another host, another scheme).
 */
export function filePathOf(project: string, url: string): string | undefined {
  let resolved: URL;
  try {
    resolved = new URL(url, `${ORIGIN}/${project}/`);
  } catch {
    return undefined;
  }
  return resolved.origin === ORIGIN ? resolved.pathname : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function fileOf(project: string, raw: JsonFile): FileView | undefined {
  const filename = text(raw.filename);
  if (filename === undefined) return undefined;
  const file: FileView = { filename, hasMetadata: raw['core-metadata'] !== undefined && raw['core-metadata'] !== false };
  const path = typeof raw.url === 'string' ? filePathOf(project, raw.url) : undefined;
  // The UI page is /+ui/<project>/: two levels below the server's root.
  if (path !== undefined) {
    file.path = path;
    file.href = `../..${path}`;
  }
  if (typeof raw.size === 'number' && Number.isSafeInteger(raw.size) && raw.size >= 0) file.size = raw.size;
  const sha256 = typeof raw.hashes === 'object' && raw.hashes !== null ? (raw.hashes as Record<string, unknown>).sha256 : undefined;
  if (typeof sha256 === 'string' && /^[0-9a-f]{64}$/i.test(sha256)) file.sha256 = sha256.toLowerCase();
  const uploadTime = text(raw['upload-time']);
  if (uploadTime !== undefined) file.uploadTime = uploadTime;
  const requiresPython = text(raw['requires-python']);
  if (requiresPython !== undefined) file.requiresPython = requiresPython;
  if (raw.yanked === true) file.yanked = true;
  else if (typeof raw.yanked === 'string') file.yanked = raw.yanked === '' ? true : raw.yanked;
  return file;
}

/** The version's mark: yanked when every file is, with the first reason given. */
function yankOf(files: FileView[]): true | string | undefined {
  if (files.length === 0 || files.some((file) => file.yanked === undefined)) return undefined;
  return files.find((file) => typeof file.yanked === 'string')?.yanked ?? true;
}

/**
 * The versions (newest first) and the one to show: `wanted`, else the newest not yanked, else the
 * newest. `page` is the parsed index.json; a file whose name gives no version is left out.
 */
export function buildProjectView(project: string, page: unknown, wanted: string | undefined): ProjectView {
  const rawFiles = typeof page === 'object' && page !== null && Array.isArray((page as { files?: unknown }).files) ? (page as { files: unknown[] }).files : [];
  const byVersion = new Map<string, FileView[]>();
  for (const raw of rawFiles) {
    if (typeof raw !== 'object' || raw === null) continue;
    const file = fileOf(project, raw as JsonFile);
    const version = file === undefined ? undefined : parseDistFilename(file.filename)?.version;
    if (file === undefined || version === undefined) continue;
    const list = byVersion.get(version);
    if (list === undefined) byVersion.set(version, [file]);
    else list.push(file);
  }
  const versions: VersionView[] = sortVersions(byVersion.keys())
    .reverse()
    .map((version) => {
      const files = (byVersion.get(version) ?? []).sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
      const yanked = yankOf(files);
      return yanked === undefined ? { version, files } : { version, files, yanked };
    });
  const view: ProjectView = { uiRoot: '../', project, versions };
  const latest = versions.find((v) => v.yanked === undefined);
  if (latest !== undefined) view.latest = latest.version;
  if (wanted !== undefined && wanted !== '') {
    const selected = versions.find((v) => v.version === wanted);
    if (selected === undefined) view.missingVersion = wanted;
    else view.selected = selected;
  } else {
    const selected = latest ?? versions[0];
    if (selected !== undefined) view.selected = selected;
  }
  return view;
}

/** The file of a version whose core metadata the page shows: the first with a `.metadata` beside it. */
export function metadataFileOf(version: VersionView | undefined): FileView | undefined {
  return version?.files.find((file) => file.hasMetadata && file.path !== undefined);
}

/** The view with the selected version's metadata text, the description cut at MAX_DESCRIPTION_CHARS. */
export function withMetadataText(view: ProjectView, text: { name?: string; summary?: string; description?: string }): ProjectView {
  const out: ProjectView = { ...view };
  if (text.name !== undefined) out.displayName = text.name;
  if (text.summary !== undefined) out.summary = text.summary;
  if (text.description !== undefined) {
    const isCut = text.description.length > MAX_DESCRIPTION_CHARS;
    out.description = isCut ? text.description.slice(0, MAX_DESCRIPTION_CHARS) : text.description;
    if (isCut) out.isDescriptionCut = true;
  }
  return out;
}
