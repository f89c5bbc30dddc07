// Inspect one distribution file for the index and write its PEP 658 `.metadata`: the unit of work the indexer's workers run.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, statSync, writeFileSync, type BigIntStats } from 'node:fs';
import { join, posix } from 'node:path';
import { replaceFile } from '../../fs/replace-file.js';
import { projectOfRecord } from '../store/file-owner.js';
import { parseDistFilename, sdistVersionFor } from '../../pypi/dist-filename.js';
import { BrokenDistributionError } from '../../pypi/errors.js';
import type { InspectedDistribution } from '../../pypi/types.js';
import { inspectDistribution } from '../inspect/inspect-distribution.js';
import { inspectDistributionSync, inspectWholeSync } from '../inspect/inspect-sync.js';
import type { FileRecord } from '../store/manifest.js';

export interface InspectJob {
  dir: string;
  /** Relative to the mirror. */
  path: string;
  /** sha256 of the `.metadata` file the manifest says is there (undefined: none). */
  knownMetadataSha256?: string;
  /** The file is new to the index: no page links it yet, so its `.metadata` needs no atomic replace. */
  isNew: boolean;
  /** The file's bytes and sha256, when the caller has them in memory (a download just verified them): not read again. */
  data?: Uint8Array;
  /** Read and stat this file instead of `dir/path` (a verified download's temp file, renamed to `path` afterwards: the same inode). */
  source?: string;
  sha256?: string;
}

export interface InspectOutcome {
  path: string;
  /** Undefined when the file vanished since the scan. */
  record?: FileRecord;
  /** The project the file belonged to before (its page changes too). */
  wroteMetadata: boolean;
}

/** Create `target` with `data`; false when it exists already (one syscall less than asking first). */
function writeNew(target: string, data: Uint8Array): boolean {
  try {
    writeFileSync(target, data, { mode: 0o644, flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Whether the file at `path` holds exactly `bytes` (a missing or unreadable one does not). */
function holdsBytes(path: string, bytes: Uint8Array): boolean {
  try {
    const existing = readFileSync(path);
    return existing.length === bytes.length && existing.equals(bytes);
  } catch {
    return false;
  }
}

/**
 * The file open for reading with its stat, taken from the descriptor (one path lookup, not two);
 * `fd` undefined when it cannot be opened (the inspection then reports why), undefined when it is gone.
 */
function openForInspection(path: string, needsFd: boolean): { fd?: number; stat: BigIntStats } | undefined {
  let fd: number | undefined;
  if (needsFd) {
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    }
  }
  try {
    const stat = fd === undefined ? statSync(path, { bigint: true, throwIfNoEntry: false }) : fstatSync(fd, { bigint: true });
    if (stat === undefined) return undefined;
    return fd === undefined ? { stat } : { fd, stat };
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw error;
  }
}

/** Hash and read metadata (synchronously when the file fits in one read), then write `<file>.metadata` if it is new or differs. */
export async function runInspectJob(job: InspectJob): Promise<InspectOutcome> {
  const full = join(job.dir, job.path);
  // Bytes in memory need no descriptor: a stat tells whether they are still the file's.
  const opened = openForInspection(job.source ?? full, job.data === undefined);
  if (opened === undefined) return { path: job.path, wroteMetadata: false };
  try {
    return await inspectOpened(job, full, opened.stat, opened.fd);
  } finally {
    if (opened.fd !== undefined) closeSync(opened.fd);
  }
}

async function inspectOpened(job: InspectJob, full: string, stat: BigIntStats, fd: number | undefined): Promise<InspectOutcome> {
  const base = { size: Number(stat.size), mtimeNs: String(stat.mtimeNs) };
  const basename = posix.basename(job.path);
  const filename = parseDistFilename(basename);
  if (filename === undefined)
    return { path: job.path, record: { ...base, problem: 'not a distribution file name (wheel or sdist) pip would accept' }, wroteMetadata: false };
  let inspected: InspectedDistribution;
  try {
    // In-memory bytes are used only while the file still has their size (else it changed since: read it).
    const inMemory =
      job.data !== undefined && job.data.length === base.size
        ? inspectWholeSync(full, filename, Buffer.from(job.data.buffer, job.data.byteOffset, job.data.length), job.sha256)
        : undefined;
    inspected =
      inMemory ??
      (fd === undefined ? undefined : inspectDistributionSync(fd, full, filename, base.size)) ??
      (await inspectDistribution(full, filename, job.source));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path: job.path, wroteMetadata: false };
    const reason = error instanceof BrokenDistributionError ? error.reason : `cannot read: ${(error as Error).message}`;
    return { path: job.path, record: { ...base, problem: reason }, wroteMetadata: false };
  }
  const project = projectOfRecord(basename, filename, inspected.core);
  const version = filename.kind === 'sdist' && project !== filename.normalized ? (sdistVersionFor(basename, project) ?? filename.version) : filename.version;
  const record: FileRecord = { ...base, sha256: inspected.sha256, project, version };
  if (inspected.core?.requiresPython !== undefined && inspected.core.requiresPython !== '') record.requiresPython = inspected.core.requiresPython;
  let wroteMetadata = false;
  if (inspected.metadata !== undefined && inspected.metadataSha256 !== undefined) {
    record.metadataSha256 = inspected.metadataSha256;
    const target = `${full}.metadata`;
    if (job.knownMetadataSha256 !== inspected.metadataSha256 || !existsSync(target)) {
      // A new wheel's metadata is written in place (one create instead of create + rename: a
      // third of the files an index run makes): no page advertises it until the pages are written,
      // and a run killed meanwhile leaves a file the next run replaces, since the manifest lacks it.
      // One the manifest does not know (a full run, a lost manifest) may already hold these bytes: then it stays as it is.
      const isWritten = job.isNew && writeNew(target, inspected.metadata);
      if (isWritten || job.knownMetadataSha256 !== undefined || !holdsBytes(target, inspected.metadata)) {
        if (!isWritten) replaceFile(target, inspected.metadata);
        wroteMetadata = true;
      }
    }
  }
  return { path: job.path, record, wroteMetadata };
}
