// `mirror export`: a new, minimal mirror holding exactly the files a lock names (by sha256), checked, indexed, with deterministic bytes.
import {
  closeSync,
  copyFileSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DibPypiError, UsageError } from '../../errors.js';
import { indexMirror } from '../index/index-mirror.js';
import { parseLock, pinText, type LockEntry } from '../../pypi/lock-file.js';
import { loadFilesWithHashes, manifestPath, type FileRecord } from '../store/manifest.js';
import { normalizeProjectName } from '../../pypi/project-name.js';
import { SIDECARS } from '../store/layout.js';
import type { IndexProgress } from '../index/types.js';
import { sha256FileSync } from '../../fs/hash-file.js';
import { phaseClock, type Tracer } from '../index/tracer.js';

/** The mtime of every directory of an export and of every copied file: 1980-01-01, the SOURCE_DATE_EPOCH `mirror add` uses. */
export const EXPORT_EPOCH_SECONDS = 315532800;

export interface ExportOptions {
  /** The lock file's text (pip `--require-hashes` format, as `mirror add` writes it). */
  lockText: string;
  /** The mirror the files come from (indexed: its manifest records every file's sha256). */
  source: string;
  /** Must not exist, or be an empty directory. */
  outDir: string;
  /** Copy every file (a reflink where the file system can), never hard-link: the export then shares no inode with `source`. */
  copy?: boolean;
  onProgress?: (progress: IndexProgress | { phase: 'export'; done: number; total: number }) => void;
  /** Takes how long each step took (the CLI prints it with DIB_PYPI_DEBUG_TIMING=1); also handed to the index runs. */
  tracer?: Tracer;
}

export interface ExportedFile {
  /** Relative path in the export (`<project>/<file>`). */
  path: string;
  sha256: string;
  size: number;
  /** `link`: a hard link to the source's file (same inode); `copy`: its own bytes. */
  how: 'link' | 'copy';
}

export interface ExportResult {
  outDir: string;
  pins: number;
  files: ExportedFile[];
  bytes: number;
  linked: number;
  copied: number;
}

/** Locked files the source does not have, or whose bytes are not what the lock says: one line each. */
export class ExportFailedError extends DibPypiError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`${problems.length} locked file(s) missing or mismatching; nothing exported:\n${problems.join('\n')}`);
    this.problems = problems;
  }
}

interface Planned {
  entry: LockEntry;
  sha256: string;
  /** Relative path in the source. */
  from: string;
  /** `<project>/<file>` in the export. */
  to: string;
  record: FileRecord;
}

/** Which source file each locked hash is, and the problems (missing pins/hashes) found before anything is written. */
export function planExport(entries: readonly LockEntry[], files: Record<string, FileRecord>): { planned: Planned[]; missing: string[] } {
  const byHash = new Map<string, [string, FileRecord][]>();
  for (const [path, record] of Object.entries(files)) {
    if (record.sha256 === undefined || record.problem !== undefined) continue;
    const same = byHash.get(record.sha256);
    if (same === undefined) byHash.set(record.sha256, [[path, record]]);
    else same.push([path, record]);
  }
  const planned: Planned[] = [];
  const missing: string[] = [];
  const taken = new Set<string>();
  for (const entry of entries) {
    const project = normalizeProjectName(entry.project);
    for (const sha256 of entry.sha256) {
      const found = (byHash.get(sha256) ?? []).filter(([, record]) => record.project === project).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const first = found[0];
      if (first === undefined) {
        missing.push(`missing: ${pinText(entry)} (sha256 ${sha256}): no file with this hash in the source mirror`);
        continue;
      }
      const to = `${project}/${basename(first[0])}`;
      if (taken.has(to)) continue;
      taken.add(to);
      planned.push({ entry, sha256, from: first[0], to, record: first[1] });
    }
  }
  planned.sort((a, b) => (a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  return { planned, missing };
}

/** Hard link `from` at `to` (the same inode: the source's bytes, mode and mtime); across file systems, copy (a reflink where the file system can). */
function linkOrCopy(from: string, to: string, copy: boolean): 'link' | 'copy' {
  if (!copy) {
    try {
      linkSync(from, to);
      return 'link';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw error;
    }
  }
  copyFileSync(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  return 'copy';
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Set the mtime (and atime) of every directory under `dir` (and `dir`) and of every file but the hard
 * links in `linked` (their inode is the source's: never touched) to the export epoch.
 */
function stampTree(dir: string, linked: ReadonlySet<string>): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) stampTree(path, linked);
    else if (entry.isFile() && !linked.has(path)) utimesSync(path, EXPORT_EPOCH_SECONDS, EXPORT_EPOCH_SECONDS);
  }
  utimesSync(dir, EXPORT_EPOCH_SECONDS, EXPORT_EPOCH_SECONDS);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Temp directories of exports to `outDir` that were killed (their process is gone): removed. */
function removeStaleTemps(outDir: string): void {
  const prefix = `.${basename(outDir)}.export-`;
  for (const name of readdirSync(dirname(outDir))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid)) rmSync(join(dirname(outDir), name), { recursive: true, force: true });
  }
}

function checkOutDir(outDir: string): void {
  const stat = lstatSync(outDir, { throwIfNoEntry: false });
  if (stat === undefined) {
    if (!existsSync(dirname(outDir)))
      throw new UsageError(`output directory ${JSON.stringify(outDir)}: ${JSON.stringify(dirname(outDir))} does not exist`, 'mirror export');
    return;
  }
  if (!stat.isDirectory()) throw new UsageError(`output directory ${JSON.stringify(outDir)} exists and is not a directory`, 'mirror export');
  if (readdirSync(outDir).length > 0)
    throw new UsageError(`output directory ${JSON.stringify(outDir)} is not empty (an export goes into a new or empty directory)`, 'mirror export');
}

/**
 * Export the files `lockText` pins from `source` into `outDir`: each locked sha256 is looked up in
 * the source's manifest, linked (or copied) to `<project>/<file>` and re-hashed from the bytes now
 * at the export's path; its `.yanked` / `.upload-time` sidecars come along. Then the export is
 * indexed. Everything happens in a sibling temp directory renamed to `outDir` at the end: on any
 * missing or mismatching file (ExportFailedError, all of them named) nothing is left at `outDir`.
 */
export async function exportMirror(options: ExportOptions): Promise<ExportResult> {
  const { source, outDir } = options;
  const clock = phaseClock(options.tracer);
  if (!existsSync(source) || !statSync(source).isDirectory())
    throw new UsageError(`source mirror ${JSON.stringify(source)} is not a directory`, 'mirror export');
  if (!existsSync(manifestPath(source)))
    throw new UsageError(`source mirror ${source} has no index yet (no ${manifestPath(source)}); run dib-pypi mirror index ${source} first`, 'mirror export');
  let entries: LockEntry[] | Error;
  try {
    entries = parseLock(options.lockText).entries;
  } catch (error) {
    entries = error as Error;
  }
  // Only the records of the locked hashes are kept, shard by shard: the lookup costs what the lock holds, not the mirror.
  const hashes = new Set(Array.isArray(entries) ? entries.flatMap((entry) => entry.sha256) : []);
  const { files: lockedFiles, note } = loadFilesWithHashes(source, hashes);
  // A source that is not indexed is named before a bad lock.
  if (note !== undefined)
    throw new UsageError(`source mirror: ${note.replace('; indexing everything', '')}; run dib-pypi mirror index --full ${source}`, 'mirror export');
  if (!Array.isArray(entries)) throw new UsageError(`lock file: ${entries.message}`, 'mirror export', { cause: entries });
  if (entries.length === 0) throw new UsageError('lock file: no pins in it', 'mirror export');
  checkOutDir(outDir);
  clock('look the locked hashes up in the source manifest');

  const { planned, missing } = planExport(entries, lockedFiles);
  clock('plan');
  const problems = [...missing];
  removeStaleTemps(outDir);
  const temp = join(dirname(outDir), `.${basename(outDir)}.export-${process.pid}`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp);
  try {
    const files: ExportedFile[] = [];
    let done = 0;
    for (const item of planned) {
      const to = join(temp, item.to);
      mkdirSync(dirname(to), { recursive: true });
      const how = linkOrCopy(join(source, item.from), to, options.copy === true);
      const { sha256, size } = sha256FileSync(to);
      if (sha256 !== item.sha256) problems.push(`mismatch: ${join(source, item.from)} (${pinText(item.entry)}: expected sha256 ${item.sha256}, got ${sha256})`);
      if (how === 'copy') {
        utimesSync(to, EXPORT_EPOCH_SECONDS, EXPORT_EPOCH_SECONDS);
        fsyncFile(to);
      }
      for (const suffix of SIDECARS) {
        const sidecar = `${item.from}${suffix}`;
        if (!existsSync(join(source, sidecar))) continue;
        copyFileSync(join(source, sidecar), `${to}${suffix}`, constants.COPYFILE_EXCL);
        utimesSync(`${to}${suffix}`, EXPORT_EPOCH_SECONDS, EXPORT_EPOCH_SECONDS);
      }
      files.push({ path: item.to, sha256, size, how });
      options.onProgress?.({ phase: 'export', done: ++done, total: planned.length });
    }
    clock(`link or copy and hash ${planned.length} files`);
    if (problems.length > 0) throw new ExportFailedError(problems);
    // The tree is stamped once the index has written its pages and .metadata, before it records the
    // directories' mtimes: the manifest then holds those stamps (not "too recent to trust", not the time of
    // this export), so it is the same on every export and a later `mirror index` trusts every directory.
    const linked = new Set(files.filter((f) => f.how === 'link').map((f) => join(temp, f.path)));
    await indexMirror({ dir: temp, full: true, onProgress: options.onProgress, tracer: options.tracer, beforeRecord: () => stampTree(temp, linked) });
    clock('index');
    // The manifest's own files and directories, written after the stamps.
    stampTree(temp, linked);
    const stat = lstatSync(outDir, { throwIfNoEntry: false });
    if (stat !== undefined) rmdirSync(outDir); // empty (checked above); rmdir refuses if something appeared since
    renameSync(temp, outDir);
    utimesSync(outDir, EXPORT_EPOCH_SECONDS, EXPORT_EPOCH_SECONDS);
    clock('stamp, rename');
    return {
      outDir,
      pins: entries.length,
      files,
      bytes: files.reduce((sum, f) => sum + f.size, 0),
      linked: files.filter((f) => f.how === 'link').length,
      copied: files.filter((f) => f.how === 'copy').length,
    };
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}
