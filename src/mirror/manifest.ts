// The mirror's manifest: what the last index run saw (per directory and per file), so the next run only redoes what changed.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../fs/atomic-write.js';

export const STATE_DIR = '.dib-pypi';
export const MANIFEST_VERSION = 3;

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
  /** mtime when the directory was last listed; an unchanged mtime means an unchanged listing ('0': list it again). */
  mtimeNs: string;
}

export interface PageRecord {
  /** CRC-32 of the page bytes last written, to skip rewriting identical pages. */
  html: string;
  json: string;
}

export interface Manifest {
  version: number;
  dirs: Record<string, DirRecord>;
  files: Record<string, FileRecord>;
  sidecars: Record<string, SidecarRecord>;
  pages: Record<string, PageRecord>;
}

export function emptyManifest(): Manifest {
  return { version: MANIFEST_VERSION, dirs: {}, files: {}, sidecars: {}, pages: {} };
}

export function manifestPath(dir: string): string {
  return join(dir, STATE_DIR, 'manifest.json');
}

/** Load the manifest; a missing, damaged or older one means a full run (never an error: it is only a cache). */
export function loadManifest(dir: string): { manifest: Manifest; note?: string } {
  const path = manifestPath(dir);
  if (!existsSync(path)) return { manifest: emptyManifest() };
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<Manifest>;
    if (data.version !== MANIFEST_VERSION || typeof data.dirs !== 'object' || typeof data.files !== 'object') {
      return { manifest: emptyManifest(), note: `${path}: another manifest version; indexing everything` };
    }
    return { manifest: { ...emptyManifest(), ...data } as Manifest };
  } catch (error) {
    return { manifest: emptyManifest(), note: `${path}: unreadable (${(error as Error).message}); indexing everything` };
  }
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

/** Write the manifest atomically and durably: it is written last, after every page. */
export function saveManifest(dir: string, manifest: Manifest): void {
  mkdirSync(join(dir, STATE_DIR), { recursive: true });
  const path = manifestPath(dir);
  const text = JSON.stringify(manifest);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  writeFileAtomic(path, tempPathFor(path), Buffer.from(text), { mode: 0o644, uid, gid });
}
