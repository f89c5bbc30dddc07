// What the web page reads, through the server's page cache (DiskCache: files checked at most once a
// second, bytes kept in memory), each parsed once per version of its file: the root page's project
// list, a project's PEP 691 page and a file's core metadata; the manifest's totals for the status page.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadHead, manifestPath, readShard, SHARD_COUNT } from '../mirror/store/manifest.js';
import { readMetadataText, type MetadataText } from '../pypi/metadata-text.js';
import type { DiskCache, DiskEntry } from './disk-cache.js';
import { route } from './routes.js';

/** The bytes of a cached file, kept with its entry when they fit. */
async function bytesOf(cache: DiskCache, entry: DiskEntry): Promise<Buffer> {
  if (entry.body !== undefined) return entry.body;
  const body = await readFile(entry.path);
  cache.keep(entry, body);
  return body;
}

/** A file's parsed form, made once per version of the file (a new entry when the file changes). */
class Parsed<T> {
  readonly #memo = new WeakMap<DiskEntry, T>();
  readonly #parse: (bytes: Buffer) => T;

  constructor(parse: (bytes: Buffer) => T) {
    this.#parse = parse;
  }

  async of(cache: DiskCache, path: string): Promise<T | undefined> {
    const entry = await cache.get(path);
    if (entry === undefined) return undefined;
    let value = this.#memo.get(entry);
    if (value === undefined) {
      value = this.#parse(await bytesOf(cache, entry));
      this.#memo.set(entry, value);
    }
    return value;
  }
}

/** PEP 691 root page: the project names, in its order; a page that is no such JSON gives none. */
export function namesOfRootJson(bytes: Buffer): string[] {
  try {
    const page = JSON.parse(bytes.toString('utf8')) as { projects?: unknown };
    if (!Array.isArray(page.projects)) return [];
    return page.projects.map((p) => (typeof p === 'object' && p !== null ? (p as { name?: unknown }).name : undefined)).filter((n) => typeof n === 'string');
  } catch {
    return [];
  }
}

/** PEP 503 root page (a tree indexed by another tool has no JSON): the text of each link. */
export function namesOfRootHtml(bytes: Buffer): string[] {
  const names: string[] = [];
  for (const match of bytes.toString('utf8').matchAll(/<a\s[^>]*>([^<]+)<\/a>/gi)) names.push((match[1] as string).trim());
  return names;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

export interface MirrorTotals {
  projects: number;
  files: number;
  bytes: number;
}

/** The web page's reads of one mirror directory. */
export class UiData {
  readonly #dir: string;
  readonly #cache: DiskCache;
  readonly #rootJson = new Parsed(namesOfRootJson);
  readonly #rootHtml = new Parsed(namesOfRootHtml);
  readonly #pages = new Parsed(parseJson);
  readonly #metadata = new Parsed<MetadataText>((bytes) => readMetadataText(bytes));
  #totals: { stamp: string; value: Promise<MirrorTotals | undefined> } | undefined;

  constructor(dir: string, cache: DiskCache) {
    this.#dir = dir;
    this.#cache = cache;
  }

  /** The projects of the root page (index.json, else index.html). */
  async projectNames(): Promise<string[]> {
    return (await this.#rootJson.of(this.#cache, join(this.#dir, 'index.json'))) ?? (await this.#rootHtml.of(this.#cache, join(this.#dir, 'index.html'))) ?? [];
  }

  /** A project's PEP 691 page in `pageDir` (DIR/<project>, or where the pull-through cache keeps it), parsed; undefined: none. */
  async projectPage(pageDir: string): Promise<unknown> {
    return this.#pages.of(this.#cache, join(pageDir, 'index.json'));
  }

  /** The core metadata text of the file served at `path` (a server path such as `/<project>/<file>.whl`), when its `.metadata` is on disk. */
  async metadataText(path: string): Promise<MetadataText | undefined> {
    const target = route('GET', path);
    if (target.kind !== 'file' || target.filename.endsWith('.metadata')) return undefined;
    return this.#metadata.of(this.#cache, join(this.#dir, target.project ?? '', `${target.filename}.metadata`));
  }

  /** Projects, files and bytes the last index run recorded; read again only when the manifest changed. Undefined: no manifest. */
  async mirrorTotals(): Promise<MirrorTotals | undefined> {
    let stamp: string;
    try {
      const facts = await stat(manifestPath(this.#dir));
      stamp = `${facts.mtimeMs}-${facts.size}-${facts.ino}`;
    } catch {
      return undefined;
    }
    if (this.#totals?.stamp !== stamp) this.#totals = { stamp, value: Promise.resolve().then(() => readTotals(this.#dir)) };
    return this.#totals.value;
  }
}

/** The manifest's head and shards summed up: the good files and their sizes. */
function readTotals(dir: string): MirrorTotals | undefined {
  const { head } = loadHead(dir);
  if (head === undefined) return undefined;
  let files = 0;
  let bytes = 0;
  for (let id = 0; id < SHARD_COUNT; id++) {
    const shard = readShard(dir, id);
    if (shard === undefined) return undefined;
    for (const record of Object.values(shard.files)) {
      if (record.problem !== undefined || record.sha256 === undefined) continue;
      files++;
      bytes += record.size;
    }
  }
  return { projects: head.projects.length, files, bytes };
}
