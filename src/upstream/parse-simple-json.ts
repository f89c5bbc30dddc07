// PEP 691 JSON pages (root and project) read into the common model, validated field by field. Pure.
import { PAGES_DIGEST_KEY } from '../pypi/render-pages.js';
import { checkRepositoryVersion } from './repository-version.js';
import { checkHash, isSafeFilename, MalformedPageError, type ProjectPage, type RootPage, type UpstreamFile } from './simple-model.js';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse the text and check `meta.api-version` (PEP 691 requires it; PEP 629 rules). */
function parseDocument(text: string, pageUrl: string): Json {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new MalformedPageError(pageUrl, `not JSON (${(error as Error).message})`);
  }
  if (!isObject(data)) throw new MalformedPageError(pageUrl, 'not a JSON object');
  const meta = data.meta;
  if (!isObject(meta) || typeof meta['api-version'] !== 'string') throw new MalformedPageError(pageUrl, 'no meta.api-version');
  checkRepositoryVersion(meta['api-version'], pageUrl);
  return data;
}

/** PEP 691 root: `projects: [{name}]`; `meta._dib-pypi-pages` when `mirror index` wrote the page. */
export function parseRootJson(text: string, pageUrl: string): RootPage {
  const data = parseDocument(text, pageUrl);
  const digest = (data.meta as Json)[PAGES_DIGEST_KEY];
  if (!Array.isArray(data.projects)) throw new MalformedPageError(pageUrl, 'projects is not a list');
  const projects: string[] = [];
  const problems: string[] = [];
  data.projects.forEach((entry, i) => {
    if (isObject(entry) && typeof entry.name === 'string' && entry.name !== '') projects.push(entry.name);
    else problems.push(`projects[${i}]: no name`);
  });
  if (typeof digest === 'string' && /^[0-9a-f]{64}$/.test(digest)) return { projects, problems, pagesDigest: digest };
  if (digest !== undefined) problems.push(`meta.${PAGES_DIGEST_KEY} is not a sha256 digest: ${JSON.stringify(digest).slice(0, 80)}`);
  return { projects, problems };
}

/** `hashes`, `core-metadata`: a dict of algorithm -> hex; unknown algorithms are ignored (PEP 691 lets servers add any). */
function hashDict(value: unknown, field: string): Record<string, string> | string {
  if (!isObject(value)) return `${field} is not an object`;
  const hashes: Record<string, string> = {};
  for (const [algorithm, digest] of Object.entries(value)) {
    if (typeof digest !== 'string') return `${field}.${algorithm} is not a string`;
    const hash = checkHash(algorithm, digest);
    if (typeof hash === 'string') {
      if (hash.startsWith('unknown hash algorithm')) continue;
      return `${field}: ${hash}`;
    }
    hashes[hash.algorithm] = hash.digest;
  }
  return hashes;
}

/** PEP 691 `core-metadata` (PEP 714), else the legacy `dist-info-metadata`: false, true, or a hash dict. */
function coreMetadataOf(entry: Json): UpstreamFile['coreMetadata'] | string {
  const value = 'core-metadata' in entry ? entry['core-metadata'] : entry['dist-info-metadata'];
  if (value === undefined || value === false) return undefined;
  if (value === true) return true;
  const hashes = hashDict(value, 'core-metadata');
  return typeof hashes === 'string' ? hashes : hashes;
}

function optionalFields(entry: Json, file: UpstreamFile): string | undefined {
  const requiresPython = entry['requires-python'];
  if (typeof requiresPython === 'string') {
    if (requiresPython.trim() !== '') file.requiresPython = requiresPython.trim();
  } else if (requiresPython !== undefined && requiresPython !== null) return 'requires-python is not a string';
  const yanked = entry.yanked;
  if (yanked === true || (typeof yanked === 'string' && yanked === '')) file.yanked = true;
  else if (typeof yanked === 'string') file.yanked = yanked;
  else if (yanked !== undefined && yanked !== false) return 'yanked is neither a boolean nor a string';
  const size = entry.size;
  if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) file.size = size;
  else if (size !== undefined) return `bad size ${JSON.stringify(size)}`;
  const uploadTime = entry['upload-time'];
  if (typeof uploadTime === 'string' && !Number.isNaN(Date.parse(uploadTime))) file.uploadTime = uploadTime;
  else if (uploadTime !== undefined && uploadTime !== null) return `bad upload-time ${JSON.stringify(uploadTime)}`;
  const metadata = coreMetadataOf(entry);
  if (typeof metadata === 'string') return metadata;
  if (metadata !== undefined) file.coreMetadata = metadata;
  return undefined;
}

/** One `files[]` entry, or the reason it cannot be used. */
function fileOfEntry(entry: unknown, pageUrl: string): UpstreamFile | string {
  if (!isObject(entry)) return 'not an object';
  const { filename, url } = entry;
  if (typeof filename !== 'string' || !isSafeFilename(filename)) return `unsafe or missing filename ${JSON.stringify(filename)}`;
  if (typeof url !== 'string' || url === '') return 'no url';
  let absolute: URL;
  try {
    absolute = new URL(url, pageUrl); // PEP 691: relative URLs resolve against the page's URL
  } catch {
    return `bad url ${JSON.stringify(url)}`;
  }
  if (absolute.protocol !== 'http:' && absolute.protocol !== 'https:' && absolute.protocol !== 'file:')
    return `unsupported URL scheme in ${JSON.stringify(url)}`;
  absolute.hash = '';
  const hashes = hashDict(entry.hashes, 'hashes');
  if (typeof hashes === 'string') return hashes;
  const file: UpstreamFile = { filename, url: absolute.href, hashes };
  return optionalFields(entry, file) ?? file;
}

/** PEP 691 project page. A broken document throws MalformedPageError; a broken entry lands in `problems`. */
export function parseProjectJson(text: string, pageUrl: string, asked: string): ProjectPage {
  const data = parseDocument(text, pageUrl);
  if (!Array.isArray(data.files)) throw new MalformedPageError(pageUrl, 'files is not a list');
  const name = typeof data.name === 'string' && data.name !== '' ? data.name : asked;
  const files: UpstreamFile[] = [];
  const problems: string[] = [];
  data.files.forEach((entry, i) => {
    const file = fileOfEntry(entry, pageUrl);
    if (typeof file === 'string') problems.push(`files[${i}]${isObject(entry) && typeof entry.filename === 'string' ? ` (${entry.filename})` : ''}: ${file}`);
    else files.push(file);
  });
  const page: ProjectPage = { name, files, problems };
  if (Array.isArray(data.versions) && data.versions.every((v) => typeof v === 'string')) page.versions = data.versions as string[];
  return page;
}
