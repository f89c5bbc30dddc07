// PEP 503 HTML pages (root and project) read into the common model. Pure: text and the page's URL in, model out.
import { checkHash, isSafeFilename, type ProjectPage, type RootPage, type UpstreamFile } from './simple-model.js';
import { checkRepositoryVersion } from './repository-version.js';

interface Tag {
  name: string;
  attributes: Map<string, string>;
  /** Anchors: their text content, tags stripped, entities decoded, trimmed. */
  text: string;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** HTML character references: named (the few pages use), decimal and hex; unknown ones stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]+|#x[0-9a-f]+|[a-z]+);?/gi, (all, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? all;
  });
}

// An attribute: name, then optionally = and a double-quoted, single-quoted or unquoted value (HTML attribute syntax;
// like browsers, an unquoted value may hold `=`, as in `href=x.whl#sha256=...`).
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'<>`]+)))?/g;

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = (match[1] as string).toLowerCase();
    if (attributes.has(name)) continue; // HTML: the first of duplicate attributes wins
    attributes.set(name, decodeEntities(match[2] ?? match[3] ?? match[4] ?? ''));
  }
  return attributes;
}

/** The `<a>`, `<base>` and `<meta>` tags of a page, in order; comments skipped. */
export function scanTags(html: string): Tag[] {
  const tags: Tag[] = [];
  const pattern = /<!--[\s\S]*?(?:-->|$)|<(a|base|meta)(\s[^>]*)?>|<\/a\s*>/gi;
  let open: Tag | undefined;
  let textStart = 0;
  for (const match of html.matchAll(pattern)) {
    if (match[0].startsWith('<!--')) continue;
    const index = match.index;
    if (match[0].startsWith('</')) {
      if (open) open.text = decodeEntities(html.slice(textStart, index).replace(/<[^>]*>/g, '')).trim();
      open = undefined;
      continue;
    }
    const name = (match[1] as string).toLowerCase();
    const tag: Tag = { name, attributes: parseAttributes(match[2] ?? ''), text: '' };
    tags.push(tag);
    if (name === 'a') {
      if (open) open.text = decodeEntities(html.slice(textStart, index).replace(/<[^>]*>/g, '')).trim(); // unclosed <a>
      open = tag;
      textStart = index + match[0].length;
    }
  }
  if (open) open.text = decodeEntities(html.slice(textStart).replace(/<[^>]*>/g, '')).trim();
  return tags;
}

/** The URL links resolve against: the first `<base href>` (as pip honours it), else the page's own URL. */
function baseUrl(tags: Tag[], pageUrl: string): string {
  const href = tags.find((t) => t.name === 'base' && t.attributes.has('href'))?.attributes.get('href');
  if (href === undefined) return pageUrl;
  try {
    return new URL(href, pageUrl).href;
  } catch {
    return pageUrl;
  }
}

function checkVersionMeta(tags: Tag[], pageUrl: string): void {
  const meta = tags.find((t) => t.name === 'meta' && t.attributes.get('name') === 'pypi:repository-version');
  const version = meta?.attributes.get('content');
  if (version !== undefined) checkRepositoryVersion(version, pageUrl);
}

/** PEP 503 root page: the text of every anchor is a project name. */
export function parseRootHtml(html: string, pageUrl: string): RootPage {
  const tags = scanTags(html);
  checkVersionMeta(tags, pageUrl);
  const projects: string[] = [];
  const problems: string[] = [];
  for (const tag of tags) {
    if (tag.name !== 'a') continue;
    if (tag.text === '') problems.push(`anchor without a project name (href ${JSON.stringify(tag.attributes.get('href') ?? '')})`);
    else projects.push(tag.text);
  }
  return { projects, problems };
}

/** `data-core-metadata` (PEP 714), else the legacy `data-dist-info-metadata` (PEP 658): "true" or `algo=hex`. */
function coreMetadataOf(attributes: Map<string, string>): UpstreamFile['coreMetadata'] | string {
  const value = attributes.get('data-core-metadata') ?? attributes.get('data-dist-info-metadata');
  if (value === undefined || value.toLowerCase() === 'false') return undefined;
  if (value === '' || value.toLowerCase() === 'true') return true;
  const eq = value.indexOf('=');
  if (eq === -1) return `bad core-metadata value ${JSON.stringify(value)}`;
  const hash = checkHash(value.slice(0, eq), value.slice(eq + 1));
  return typeof hash === 'string' ? `core-metadata: ${hash}` : { [hash.algorithm]: hash.digest };
}

/** One project-page anchor as a file, or the reason it cannot be used. */
function fileOfAnchor(tag: Tag, base: string): UpstreamFile | string {
  const href = tag.attributes.get('href');
  if (href === undefined || href === '') return 'anchor without href';
  let url: URL;
  try {
    url = new URL(href, base);
  } catch {
    return `bad href ${JSON.stringify(href)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && url.protocol !== 'file:') return `unsupported URL scheme in ${JSON.stringify(href)}`;
  const hashes: Record<string, string> = {};
  const fragment = url.hash.slice(1);
  url.hash = '';
  if (fragment !== '') {
    const eq = fragment.indexOf('=');
    const hash = eq === -1 ? `bad hash fragment #${fragment}` : checkHash(fragment.slice(0, eq), fragment.slice(eq + 1));
    if (typeof hash === 'string') return hash;
    hashes[hash.algorithm] = hash.digest;
  }
  // PEP 503: the text is the file name; it must be the URL's last path segment's name too, or we could not trust either.
  let filename = tag.text;
  if (filename === '') {
    try {
      filename = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
    } catch {
      return `bad percent-encoding in ${JSON.stringify(href)}`; // one bad link, not a page that cannot be read at all
    }
  }
  if (!isSafeFilename(filename)) return `unsafe file name ${JSON.stringify(filename)}`;
  const file: UpstreamFile = { filename, url: url.href, hashes };
  const requiresPython = tag.attributes.get('data-requires-python');
  if (requiresPython !== undefined && requiresPython.trim() !== '') file.requiresPython = requiresPython.trim();
  if (tag.attributes.has('data-yanked'))
    file.yanked = (tag.attributes.get('data-yanked') as string) === '' ? true : (tag.attributes.get('data-yanked') as string);
  const metadata = coreMetadataOf(tag.attributes);
  if (typeof metadata === 'string') return metadata;
  if (metadata !== undefined) file.coreMetadata = metadata;
  return file;
}

/** PEP 503 project page: every anchor a file; anchors that cannot be used are listed in `problems`, not dropped silently. */
export function parseProjectHtml(html: string, pageUrl: string, name: string): ProjectPage {
  const tags = scanTags(html);
  checkVersionMeta(tags, pageUrl);
  const base = baseUrl(tags, pageUrl);
  const files: UpstreamFile[] = [];
  const problems: string[] = [];
  for (const tag of tags) {
    if (tag.name !== 'a') continue;
    const file = fileOfAnchor(tag, base);
    if (typeof file === 'string') problems.push(`${tag.text || '(no text)'}: ${file}`);
    else files.push(file);
  }
  return { name, files, problems };
}
