// Walk a mirror (the top level and one level of project directories), trusting unchanged directories' manifest entries.
import { lstat, lstatSync, readdirSync, readFileSync, rmSync, type BigIntStats, type Stats } from 'node:fs';
import { join } from 'node:path';
import { TEMP_NAME } from '../../fs/replace-file.js';
import { isDistName } from '../../pypi/dist-filename.js';
import type { Tracer } from './tracer.js';
import { entriesByDir, type FileRecord, type Manifest, type SidecarRecord } from '../store/manifest.js';
import { isSidecar, STATE_DIR } from '../store/layout.js';

export { isSidecar, SIDECARS } from '../store/layout.js';

/** What one directory holds, as far as the index cares. */
export interface DirScan {
  /** Relative path of the directory (`''` for the top level). */
  rel: string;
  /** Whether it was listed in this run (false: its manifest entry was trusted). */
  listed: boolean;
  distNames: string[];
  sidecarNames: string[];
  /** Listed directories only: generated files present (`index.html`, `x.whl.metadata`, ...). */
  generated: Set<string>;
}

export interface Scan {
  dirs: DirScan[];
  /** Distribution files by relative path: the manifest record when it still holds, else undefined (inspect it). */
  files: Map<string, FileRecord | undefined>;
  sidecars: Map<string, SidecarRecord>;
  /** Files whose size/mtime matched but whose generated `.metadata` is missing: inspect again. */
  needMetadata: Set<string>;
}

function join2(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

/** Whether a name is a file the index writes (and so may remove or rewrite). */
function isGenerated(name: string): boolean {
  return name === 'index.html' || name === 'index.json' || name.endsWith('.metadata');
}

function statOrUndefined(path: string): BigIntStats | undefined {
  return lstatSync(path, { bigint: true, throwIfNoEntry: false });
}

/** A directory entry as `readdir` with file types gives it. */
export interface Entry {
  name: string;
  isFile: boolean;
}

/** List a directory (or take the entries a caller already has: the top level's come from statTopLevel). */
function listDir(dir: string, rel: string, removeTemps: boolean, entries?: readonly Entry[], hidden?: ReadonlySet<string>): DirScan {
  const scan: DirScan = { rel, listed: true, distNames: [], sidecarNames: [], generated: new Set() };
  const listing = entries ?? readdirSync(join(dir, rel), { withFileTypes: true }).map((entry) => ({ name: entry.name, isFile: entry.isFile() }));
  for (const { name, isFile } of listing) {
    if (hidden?.has(name) === true) continue;
    if (TEMP_NAME.test(name)) {
      if (removeTemps) rmSync(join(dir, rel, name), { force: true }); // left by a killed run
      continue;
    }
    if (!isFile) continue;
    if (isGenerated(name)) scan.generated.add(name);
    else if (isSidecar(name)) scan.sidecarNames.push(name);
    else if (isDistName(name)) scan.distNames.push(name);
  }
  scan.distNames.sort();
  scan.sidecarNames.sort();
  return scan;
}

/** The project directories and the top level; dot-directories (our state) are never projects. */
export interface TopDir {
  rel: string;
  /** dirStamp of the directory. */
  mtime: string;
  /** The top level's (`rel` '') entries other than directories, found while stat-ing it, so listing it needs no second `readdir`. */
  entries?: Entry[];
  /** Names in it that a removal under way has journaled (hideRemoved): never indexed, and the directory is always listed. */
  hidden?: Set<string>;
}

/**
 * The directories without what removals under way (`removing`: paths relative to the mirror, from the store's
 * journals) take out: a removed project's directory is left off, a removed file is hidden in its directory.
 * So the index drops them from its pages before they are deleted, and no page ever links a missing file.
 */
export function hideRemoved(top: readonly TopDir[], removing: ReadonlySet<string>): TopDir[] {
  if (removing.size === 0) return [...top];
  const kept = top.filter((t) => !removing.has(t.rel));
  const byRel = new Map(kept.map((t) => [t.rel, t]));
  const goneDirs = new Set(top.filter((t) => removing.has(t.rel)).map((t) => t.rel));
  for (const path of removing) {
    if (goneDirs.has(path)) continue; // left off whole
    const slash = path.lastIndexOf('/');
    const holder = byRel.get(slash === -1 ? '' : path.slice(0, slash));
    if (holder !== undefined) (holder.hidden ??= new Set()).add(path.slice(slash + 1));
  }
  return kept;
}

/**
 * A directory's mtime as the manifest records it: node's `mtimeMs` (sub-millisecond digits kept),
 * from a plain stat, which costs a third of a bigint one: a run stats every project directory.
 */
export function dirStamp(stat: Stats): string {
  return String(stat.mtimeMs);
}

/** The top level as statTopLevel found it. */
export interface TopLevel {
  /** The top level (`rel` '') first, then every project directory, sorted. */
  dirs: TopDir[];
  /** The inodes came from the disk, not the page cache (the rest of the mirror likely will too). */
  isCold: boolean;
}

/** Entries stat-ed one by one first, timed: enough to tell a warm cache from a cold one. */
const PROBE = 64;
/** Average microseconds per `lstat` of the first PROBE above which the inodes are coming from disk (a warm lstat takes a few, a cold one a disk read's tens to hundreds, the first calls of a process included). */
const COLD_US = 40;

/**
 * The top level and every project directory, with their mtimes: one plain `readdir` and one `lstat`
 * per entry, paths built by concatenation (this runs on every re-index, where `readdir` with file
 * types plus `path.join` per entry cost as much again as the stats themselves).
 * The first PROBE entries are stat-ed synchronously and timed: when their inodes come from the disk,
 * the rest are asked for all at once on the thread pool, whose parallel reads overlap the waits;
 * from the page cache, one by one is faster than a callback each. Symlinks are not directories (`lstat`).
 */
export async function statTopLevel(dir: string, force?: 'serial' | 'parallel', tracer?: Tracer): Promise<TopLevel> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const names = readdirSync(dir).filter((name) => name !== STATE_DIR);
  names.sort();
  const stats: (Stats | undefined)[] = new Array(names.length);
  const started = performance.now();
  const probed = Math.min(PROBE, names.length);
  for (let i = 0; i < probed; i++) stats[i] = lstatSync(prefix + names[i], { throwIfNoEntry: false });
  const probeUs = ((performance.now() - started) * 1000) / probed;
  tracer?.(`stat probe, ${probeUs.toFixed(1)} us a directory`);
  const isCold = force === undefined ? probed === PROBE && probeUs > COLD_US : force === 'parallel';
  if (isCold) await statAll(prefix, names, probed, stats);
  else for (let i = probed; i < names.length; i++) stats[i] = lstatSync(prefix + names[i], { throwIfNoEntry: false });
  const entries: Entry[] = [];
  const found: TopDir[] = [{ rel: '', mtime: dirStamp(lstatSync(dir)), entries }];
  for (const [i, name] of names.entries()) {
    const stat = stats[i];
    if (stat === undefined) continue; // gone since the readdir
    if (!stat.isDirectory()) entries.push({ name, isFile: stat.isFile() });
    else if (!name.startsWith('.')) found.push({ rel: name, mtime: dirStamp(stat) });
  }
  return { dirs: found, isCold };
}

/** `lstat` names[from..] all at once on the thread pool (a vanished entry: undefined). */
function statAll(prefix: string, names: string[], from: number, into: (Stats | undefined)[]): Promise<void> {
  return new Promise((done, fail) => {
    let left = names.length - from;
    if (left === 0) return done();
    for (let i = from; i < names.length; i++) {
      lstat(prefix + names[i], (error, stat) => {
        if (error !== null && error.code !== 'ENOENT') return fail(error);
        into[i] = error === null ? stat : undefined;
        if (--left === 0) done();
      });
    }
  });
}

export function emptyScan(): Scan {
  return { dirs: [], files: new Map(), sidecars: new Map(), needMetadata: new Set() };
}

/**
 * Scan one directory into `scan`: a trusted one (its mtime is the one the manifest recorded) from the
 * manifest's records, any other by listing it and stat-ing its files. `known` holds the names the
 * manifest has in it. `removeTemps` deletes temp files left by a killed run (index does, verify only reads).
 */
export function scanDir(
  dir: string,
  top: TopDir,
  isTrusted: boolean,
  manifest: Manifest,
  known: string[],
  full: boolean,
  removeTemps: boolean,
  scan: Scan,
): void {
  const rel = top.rel;
  const dirScan: DirScan = isTrusted
    ? { rel, listed: false, distNames: known.filter((n) => !isSidecar(n)), sidecarNames: known.filter(isSidecar), generated: new Set() }
    : listDir(dir, rel, removeTemps, top.entries, top.hidden);
  scan.dirs.push(dirScan);
  for (const name of dirScan.distNames) {
    const path = join2(rel, name);
    const record = manifest.files[path];
    if (isTrusted) {
      scan.files.set(path, record);
      continue;
    }
    // With no record to compare against (a new file, a full run), a stat would tell nothing: the inspection stats it.
    const fileStat = record === undefined || full ? undefined : statOrUndefined(join(dir, path));
    const isSame = record !== undefined && fileStat !== undefined && record.size === Number(fileStat.size) && record.mtimeNs === String(fileStat.mtimeNs);
    scan.files.set(path, full || !isSame ? undefined : record);
    if (isSame && record?.metadataSha256 !== undefined && !dirScan.generated.has(`${name}.metadata`)) scan.needMetadata.add(path);
  }
  for (const name of dirScan.sidecarNames) {
    const path = join2(rel, name);
    const known2 = manifest.sidecars[path];
    // In a trusted directory, a sidecar replaced by rename would have changed its mtime; `.yanked` files,
    // which people edit in place, are stat'ed (and the manifest head keeps their mtimes for unloaded shards).
    if (isTrusted && known2 !== undefined && !name.endsWith('.yanked')) {
      scan.sidecars.set(path, known2);
      continue;
    }
    const stat2 = statOrUndefined(join(dir, path));
    if (stat2 === undefined) continue;
    const text = !full && known2?.mtimeNs === String(stat2.mtimeNs) ? known2.text : readFileSync(join(dir, path), 'utf8').trim();
    scan.sidecars.set(path, { mtimeNs: String(stat2.mtimeNs), text });
  }
}

/** Scan the whole mirror with the whole manifest. `full` lists every directory and stats every file, trusting nothing; `removing` as hideRemoved. */
export async function scanMirror(dir: string, manifest: Manifest, full: boolean, removeTemps = true, removing: ReadonlySet<string> = new Set()): Promise<Scan> {
  const scan = emptyScan();
  const knownEntries = entriesByDir(manifest);
  for (const top of hideRemoved((await statTopLevel(dir)).dirs, removing)) {
    const known = manifest.dirs[top.rel];
    const isTrusted = !full && top.hidden === undefined && known !== undefined && known.mtime === top.mtime && known.mtime !== '0';
    scanDir(dir, top, isTrusted, manifest, knownEntries.get(top.rel) ?? [], full, removeTemps, scan);
  }
  return scan;
}
