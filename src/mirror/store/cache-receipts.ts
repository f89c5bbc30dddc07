// Which files of the mirror the pull-through cache downloaded, and when each was last used:
// `DIR/.dib-pypi/upstream/<project>/fetched/<file>`, a receipt per file holding the identity of the file
// it was written for (device, inode, size, mtime), its own mtime the file's last use.
//
// Only a file whose receipt still matches it may be evicted: an upload or `mirror sync` that replaced
// the file (a new inode) made it theirs, and it is never given up as cache.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../../fs/replace-file.js';
import { isDistName } from '../../pypi/dist-filename.js';
import { distPath, SIDECARS, STATE_DIR, upstreamStateDir } from './layout.js';
import { keptMetadataPath } from './upstream-pages.js';
import { passesSymlink } from '../../fs/symlinked-dir.js';

const FETCHED = 'fetched';

export interface CacheReceipt {
  project: string;
  filename: string;
  bytes: number;
  /** The receipt's mtime: when the file was stored or last served (ms). */
  lastUsed: number;
}

interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * Whether the file and its receipt are reached through symlinked directories (made by whoever can
 * write DIR): eviction would then delete files outside the mirror.
 */
function leavesMirror(dir: string, project: string, filename: string): boolean {
  return passesSymlink(dir, `${project}/${filename}`) || passesSymlink(dir, `${STATE_DIR}/upstream/${project}/${FETCHED}/${filename}`);
}

function receiptPath(dir: string, project: string, filename: string): string {
  return join(upstreamStateDir(dir, project), FETCHED, filename);
}

function identityOf(path: string): FileIdentity | undefined {
  try {
    const st = lstatSync(path);
    return st.isFile() ? { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function readIdentity(path: string): FileIdentity | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<FileIdentity>;
    const { dev, ino, size, mtimeMs } = parsed;
    if (typeof dev !== 'number' || typeof ino !== 'number' || typeof size !== 'number' || typeof mtimeMs !== 'number') return undefined;
    return { dev, ino, size, mtimeMs };
  } catch {
    return undefined;
  }
}

/** Record that the cache stored `DIR/<project>/<filename>` (just now): it may be evicted later. Returns its size, or undefined when the file is not there. */
export function writeReceipt(dir: string, project: string, filename: string): CacheReceipt | undefined {
  const identity = identityOf(distPath(dir, project, filename));
  if (identity === undefined) return undefined;
  const path = receiptPath(dir, project, filename);
  mkdirSync(join(upstreamStateDir(dir, project), FETCHED), { recursive: true });
  replaceFile(path, `${JSON.stringify(identity)}\n`);
  return { project, filename, bytes: identity.size, lastUsed: statSync(path).mtimeMs };
}

/** The file was served at `time`: the receipt's mtime says so (for the order of eviction after a restart). */
export function touchReceipt(dir: string, project: string, filename: string, time: Date): void {
  try {
    utimesSync(receiptPath(dir, project, filename), time, time);
  } catch {
    // gone meanwhile (evicted, or the state directory cleaned): nothing to remember
  }
}

/** The file at this name is about to be replaced by one that is not the cache's (an upload): it is no longer evictable. */
export function forgetCachedFile(dir: string, project: string, filename: string): void {
  rmSync(receiptPath(dir, project, filename), { force: true });
}

/**
 * Every receipt whose file is still the one the cache stored; receipts of files that are gone or were
 * replaced are deleted (the file is no longer the cache's), unless `prune` is false (a report only reads).
 */
export function readReceipts(dir: string, { prune = true }: { prune?: boolean } = {}): CacheReceipt[] {
  const root = join(dir, STATE_DIR, 'upstream');
  const out: CacheReceipt[] = [];
  let projects: string[];
  try {
    projects = readdirSync(root);
  } catch {
    return out;
  }
  for (const project of projects) {
    if (leavesMirror(dir, project, 'receipt')) continue;
    let names: string[];
    try {
      names = readdirSync(join(root, project, FETCHED));
    } catch {
      continue;
    }
    for (const filename of names) {
      if (!isDistName(filename) || filename.startsWith('.')) continue;
      const path = receiptPath(dir, project, filename);
      const recorded = readIdentity(path);
      const now = identityOf(distPath(dir, project, filename));
      if (recorded === undefined || now === undefined || !sameIdentity(recorded, now)) {
        if (prune) rmSync(path, { force: true });
        continue;
      }
      out.push({ project, filename, bytes: now.size, lastUsed: statSync(path).mtimeMs });
    }
  }
  return out;
}

/**
 * Give up a cached file: the distribution file first (what pip would fetch), then its sidecars, the
 * `.metadata` beside it and the one kept from upstream, then the receipt. A file replaced since the
 * cache stored it is left alone (only its receipt goes). Returns whether the file was removed.
 */
export function evictCachedFile(dir: string, project: string, filename: string): boolean {
  if (filename.includes('/') || leavesMirror(dir, project, filename)) return false;
  const receipt = receiptPath(dir, project, filename);
  const recorded = readIdentity(receipt);
  const file = distPath(dir, project, filename);
  const now = identityOf(file);
  const isOurs = recorded !== undefined && now !== undefined && sameIdentity(recorded, now);
  if (isOurs) {
    rmSync(file, { force: true });
    for (const suffix of [...SIDECARS, '.metadata']) rmSync(`${file}${suffix}`, { force: true });
    rmSync(keptMetadataPath(dir, project, `${filename}.metadata`), { force: true });
  }
  rmSync(receipt, { force: true });
  return isOurs;
}
