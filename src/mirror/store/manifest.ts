// The mirror's manifest: what the last index run saw (per directory and per file), so the next run only redoes what changed.
// On disk: a small head (`manifest.json`: directories, projects, counts) read by every run, and the file
// records in shards (`manifest.d/NN.json`, by directory) of which a run reads and writes only those it needs.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { tempPathFor, writeFileAtomic, writeFilesAtomic } from '../../fs/atomic-write.js';
import { STATE_DIR } from './layout.js';

export const MANIFEST_VERSION = 5;
/** Few enough that a full run's fsyncs cost little, many enough that a shard is a small part of a big mirror. */
export const SHARD_COUNT = 64;

/**
 * A distribution file as inspected; `problem` marks a broken one (reported on every run until it
 * changes). `metadataSha256` is also the hash of the `<file>.metadata` the index wrote beside it.
 */
export interface FileRecord {
  size: number;
  mtimeNs: string;
  sha256?: string;
  project?: string;
  version?: string;
  requiresPython?: string;
  metadataSha256?: string;
  problem?: string;
}

/** A sidecar (`.yanked`, `.upload-time`): its text, re-read when its mtime changes. */
export interface SidecarRecord {
  mtimeNs: string;
  text: string;
}

export interface DirRecord {
  /** mtime (scan-mirror's dirStamp) when the directory was last listed; unchanged means an unchanged listing ('0': list it again). */
  mtime: string;
}

export interface PageRecord {
  /** CRC-32 of the page bytes last written, to skip rewriting identical pages. */
  html: string;
  json: string;
}

/** The records a run has loaded (all of them, or the shards it needs), flat; `pages['']` is the root page. */
export interface Manifest {
  version: number;
  dirs: Record<string, DirRecord>;
  files: Record<string, FileRecord>;
  sidecars: Record<string, SidecarRecord>;
  pages: Record<string, PageRecord>;
}

/** What every run reads: enough to decide which shards it needs and to write the root page. */
export interface ManifestHead {
  version: number;
  dirs: Record<string, DirRecord>;
  /** Every project with an indexed file, sorted. */
  projects: string[];
  /** Projects with files in directories other than their own (the top level, another's): those directories. */
  strays: Record<string, string[]>;
  /** `.yanked` sidecars (edited in place by people, which leaves the directory's mtime alone): path -> mtime, checked every run. */
  yanked: Record<string, string>;
  /** Indexed files without problems. */
  goodFiles: number;
  rootPage?: PageRecord;
  /** Per project, the CRCs of its pages (`<html> <json>`, as in its shard's PageRecord): what the pages digest is made of. */
  pageCrcs?: Record<string, string>;
  /** The root JSON page's `meta._dib-pypi-pages` (render-pages.ts). */
  pagesDigest?: string;
}

export function emptyManifest(): Manifest {
  return { version: MANIFEST_VERSION, dirs: {}, files: {}, sidecars: {}, pages: {} };
}

export function emptyHead(): ManifestHead {
  return { version: MANIFEST_VERSION, dirs: {}, projects: [], strays: {}, yanked: {}, goodFiles: 0 };
}

export function manifestPath(dir: string): string {
  return join(dir, STATE_DIR, 'manifest.json');
}

function shardPath(dir: string, id: number): string {
  return join(dir, STATE_DIR, 'manifest.d', `${String(id).padStart(2, '0')}.json`);
}

/** The shard of a directory's records (and, for a project directory, of the project's page record): FNV-1a of the name. */
export function shardOf(rel: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < rel.length; i++) hash = Math.imul(hash ^ rel.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % SHARD_COUNT;
}

/** The directory of a relative path (`''` for the top level). */
export function dirOfPath(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}

/** Load the head; a missing, damaged or older one means a full run (never an error: it is only a cache). */
export function loadHead(dir: string): { head: ManifestHead | undefined; note?: string } {
  const path = manifestPath(dir);
  if (!existsSync(path)) return { head: undefined };
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<ManifestHead>;
    if (data.version !== MANIFEST_VERSION || typeof data.dirs !== 'object' || !Array.isArray(data.projects)) {
      return { head: undefined, note: `${path}: another manifest version; indexing everything` };
    }
    return { head: { ...emptyHead(), ...data } as ManifestHead };
  } catch (error) {
    return { head: undefined, note: `${path}: unreadable (${(error as Error).message}); indexing everything` };
  }
}

export interface Shard {
  files: Record<string, FileRecord>;
  sidecars: Record<string, SidecarRecord>;
  pages: Record<string, PageRecord>;
}

/** Read shard `id` (empty when it was never written); undefined when it is unreadable (then the run must index everything). */
export function readShard(dir: string, id: number): Shard | undefined {
  const path = shardPath(dir, id);
  if (!existsSync(path)) return { files: {}, sidecars: {}, pages: {} };
  try {
    const shard = JSON.parse(readFileSync(path, 'utf8')) as Partial<Shard>;
    if (typeof shard.files !== 'object' || typeof shard.sidecars !== 'object' || typeof shard.pages !== 'object') return undefined;
    return shard as Shard;
  } catch {
    return undefined;
  }
}

/** Add a shard's records to `into`. */
export function mergeShard(into: Manifest, shard: Shard): void {
  Object.assign(into.files, shard.files);
  Object.assign(into.sidecars, shard.sidecars);
  Object.assign(into.pages, shard.pages);
}

/** The whole manifest (verify, sync): the head and every shard. */
export function loadManifest(dir: string): { manifest: Manifest; note?: string } {
  const { head, note } = loadHead(dir);
  if (head === undefined) return { manifest: emptyManifest(), note };
  const manifest: Manifest = { ...emptyManifest(), dirs: head.dirs };
  for (let id = 0; id < SHARD_COUNT; id++) {
    const shard = readShard(dir, id);
    if (shard === undefined) return { manifest: emptyManifest(), note: `${shardPath(dir, id)}: unreadable; indexing everything` };
    mergeShard(manifest, shard);
  }
  if (head.rootPage !== undefined) manifest.pages[''] = head.rootPage;
  return { manifest };
}

/**
 * The file records whose sha256 is in `hashes` (mirror export): each shard is read and dropped in turn, so the
 * memory and the lookup stay proportional to what is wanted, not to the mirror. A note as loadManifest's when
 * the head or a shard cannot be used.
 */
export function loadFilesWithHashes(dir: string, hashes: ReadonlySet<string>): { files: Record<string, FileRecord>; note?: string } {
  const { head, note } = loadHead(dir);
  if (head === undefined) return { files: {}, note };
  const files: Record<string, FileRecord> = {};
  for (let id = 0; id < SHARD_COUNT; id++) {
    const shard = readShard(dir, id);
    if (shard === undefined) return { files: {}, note: `${shardPath(dir, id)}: unreadable; indexing everything` };
    for (const [path, record] of Object.entries(shard.files)) if (record.sha256 !== undefined && hashes.has(record.sha256)) files[path] = record;
  }
  return { files };
}

/** The names (distribution files and sidecars) the manifest knows in each directory. */
export function entriesByDir(manifest: Manifest): Map<string, string[]> {
  const byDir = new Map<string, string[]>();
  for (const path of [...Object.keys(manifest.files), ...Object.keys(manifest.sidecars)]) {
    const slash = path.lastIndexOf('/');
    const rel = slash === -1 ? '' : path.slice(0, slash);
    const list = byDir.get(rel);
    if (list === undefined) byDir.set(rel, [path.slice(slash + 1)]);
    else list.push(path.slice(slash + 1));
  }
  return byDir;
}

function ownership() {
  return { mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
}

export interface SerializedManifest {
  dir: string;
  shards: { target: string; data: Buffer }[];
  head: Buffer;
}

/** The bytes of the shards `ids` of `manifest` (built while something else runs: the threads recording directories, the syncfs). */
export function serializeShards(dir: string, manifest: Manifest, ids: Iterable<number>): SerializedManifest['shards'] {
  const shards = new Map<number, Shard>();
  for (const id of ids) shards.set(id, { files: {}, sidecars: {}, pages: {} });
  const shardFor = (rel: string) => shards.get(shardOf(rel));
  for (const [path, record] of Object.entries(manifest.files)) {
    const shard = shardFor(dirOfPath(path));
    if (shard !== undefined) shard.files[path] = record;
  }
  for (const [path, record] of Object.entries(manifest.sidecars)) {
    const shard = shardFor(dirOfPath(path));
    if (shard !== undefined) shard.sidecars[path] = record;
  }
  for (const [project, record] of Object.entries(manifest.pages)) {
    if (project === '') continue;
    const shard = shardFor(project);
    if (shard !== undefined) shard.pages[project] = record;
  }
  return [...shards].map(([id, shard]) => ({ target: shardPath(dir, id), data: Buffer.from(JSON.stringify(shard)) }));
}

/** The shards serializeShards made, with the bytes of the head. */
export function serializeManifest(dir: string, head: ManifestHead, shards: SerializedManifest['shards']): SerializedManifest {
  return { dir, shards, head: Buffer.from(JSON.stringify(head)) };
}

/**
 * Write what serializeManifest made: the shards (the records of those shards, as a run ends them),
 * each atomically and durably, then the head: a run killed in between leaves a head whose directory
 * mtimes make the next run list again whatever those shards changed.
 */
export async function writeManifest(serialized: SerializedManifest): Promise<void> {
  mkdirSync(join(serialized.dir, STATE_DIR, 'manifest.d'), { recursive: true });
  await writeFilesAtomic(serialized.shards, ownership());
  const path = manifestPath(serialized.dir);
  writeFileAtomic(path, tempPathFor(path), serialized.head, ownership());
}
