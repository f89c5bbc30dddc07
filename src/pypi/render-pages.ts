// Simple-index pages as strings, before any I/O: PEP 503 HTML and PEP 691 JSON (api-version 1.1, PEP 700). Pure.

export const API_VERSION = '1.1';
export const JSON_CONTENT_TYPE = 'application/vnd.pypi.simple.v1+json';

/** One file as a project page lists it. */
export interface PageFile {
  filename: string;
  /** Relative URL from the project page (`file.whl` or `../file.whl`), already percent-encoded. */
  url: string;
  sha256: string;
  /** Unknown only for files a pull-through cache lists before it has them (the page is then api-version 1.0). */
  size?: number;
  requiresPython?: string;
  /** PEP 658 / 714: sha256 of the `.metadata` file served at `url + '.metadata'`. */
  coreMetadataSha256?: string;
  /** PEP 592: true, or the reason. */
  yanked?: true | string;
  /** PEP 700: ISO 8601 UTC, when known. */
  uploadTime?: string;
}

export interface ProjectPage {
  /** PEP 503-normalised name. */
  name: string;
  /** PEP 700: every version that has a file, in PEP 440 order. */
  versions: string[];
  /** Sorted by filename. */
  files: PageFile[];
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text and attribute values (PEP 503: data-requires-python must be HTML-escaped, `<` as `&lt;`). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string);
}

/** Percent-encode one path segment (a file name) for an href; `/` never appears in a file name. */
export function encodeSegment(name: string): string {
  return encodeURIComponent(name);
}

function htmlDocument(title: string, body: string[]): string {
  return (
    '<!DOCTYPE html>\n<html>\n  <head>\n' +
    `    <meta name="pypi:repository-version" content="${API_VERSION}">\n` +
    `    <title>${escapeHtml(title)}</title>\n  </head>\n  <body>\n` +
    `    <h1>${escapeHtml(title)}</h1>\n` +
    body.map((line) => `    ${line}\n`).join('') +
    '  </body>\n</html>\n'
  );
}

/** PEP 503 project page; only the PEP 714 attribute name `data-core-metadata`, never `data-dist-info-metadata`. */
export function renderProjectHtml(page: ProjectPage): string {
  const links = page.files.map((file) => {
    let attributes = `href="${escapeHtml(`${file.url}#sha256=${file.sha256}`)}"`;
    if (file.requiresPython !== undefined) attributes += ` data-requires-python="${escapeHtml(file.requiresPython)}"`;
    if (file.coreMetadataSha256 !== undefined) attributes += ` data-core-metadata="sha256=${file.coreMetadataSha256}"`;
    if (file.yanked !== undefined) attributes += ` data-yanked="${file.yanked === true ? '' : escapeHtml(file.yanked)}"`;
    return `<a ${attributes}>${escapeHtml(file.filename)}</a><br />`;
  });
  return htmlDocument(`Links for ${page.name}`, links);
}

/**
 * PEP 691 project page, keys in a fixed order; only `core-metadata`, never `dist-info-metadata`.
 * api-version 1.1 (PEP 700: `versions`, `size`, `upload-time`) when every file's size is known, else 1.0.
 */
export function renderProjectJson(page: ProjectPage): string {
  const isV11 = page.files.every((file) => file.size !== undefined);
  const files = page.files.map((file) => {
    const entry: Record<string, unknown> = { filename: file.filename, url: file.url, hashes: { sha256: file.sha256 } };
    if (file.requiresPython !== undefined) entry['requires-python'] = file.requiresPython;
    if (file.coreMetadataSha256 !== undefined) entry['core-metadata'] = { sha256: file.coreMetadataSha256 };
    if (isV11) entry.size = file.size;
    if (isV11 && file.uploadTime !== undefined) entry['upload-time'] = file.uploadTime;
    // PEP 691: yanked is true or a non-empty reason.
    if (file.yanked !== undefined) entry.yanked = file.yanked === true || file.yanked === '' ? true : file.yanked;
    return entry;
  });
  if (!isV11) return JSON.stringify({ meta: { 'api-version': '1.0' }, name: page.name, files }) + '\n';
  return JSON.stringify({ meta: { 'api-version': API_VERSION }, name: page.name, versions: page.versions, files }) + '\n';
}

/** PEP 503 root page: one link per project, to `<name>/`. */
export function renderRootHtml(projects: readonly string[]): string {
  return htmlDocument(
    'Simple index',
    projects.map((name) => `<a href="${encodeSegment(name)}/">${escapeHtml(name)}</a><br />`),
  );
}

/** The private meta key (PEP 691 keeps leading underscores for the index's own use) of `pagesDigest`. */
export const PAGES_DIGEST_KEY = '_dib-pypi-pages';

/**
 * PEP 691 root page. `pagesDigest`: a digest of every project page (mirror/index/plan.ts pagesDigestOf),
 * other whenever any page is: a sync from this tree that finds the digest it saw at the end of its
 * last run knows that nothing changed, from this one request. Content, not a counter: a tree
 * indexed afresh gives the same bytes.
 */
export function renderRootJson(projects: readonly string[], pagesDigest?: string): string {
  const meta = pagesDigest === undefined ? { 'api-version': API_VERSION } : { [PAGES_DIGEST_KEY]: pagesDigest, 'api-version': API_VERSION };
  return JSON.stringify({ meta, projects: projects.map((name) => ({ name })) }) + '\n';
}
