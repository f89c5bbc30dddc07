// Record each directory's mtime after an index run's own writes, so the next run can trust it: the unit of work the indexer's threads run last.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dirStamp, isSidecar } from './scan-mirror.js';
import { isDistName } from '../../pypi/dist-filename.js';

/** A directory modified this recently may change again within the same mtime tick: do not trust its mtime next run. */
export const RACY_MS = 100;
/** More directories than this (in one call) too recent to trust: wait RACY_MS once and record them then. */
export const RACY_WAIT_MIN = 8;

export interface RecordJob {
  dir: string;
  /** Relative path of the directory (`''`: the top level). */
  rel: string;
  /** The distribution files and sidecars the run saw in it, sorted. */
  expected: string[];
}

export interface RecordOutcome {
  rel: string;
  /** The mtime to trust next run, `'0'` (list it again), or undefined: the directory is gone. */
  mtime: string | undefined;
}

/** Whether two lists hold the same strings in the same order. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The listing is read again between two stats: if anything but what the run knows appeared
 * meanwhile, or the mtime is too fresh to rule out another change in the same tick, the directory
 * gets no trusted mtime (`'0'`) and the next run lists it again. When more than RACY_WAIT_MIN are
 * too fresh (the last pages of a full run), waiting out the rest of RACY_MS once and recording
 * them again is cheaper than the next run loading the manifest shards of them all; one or two
 * (a new project) are simply listed again.
 */
export function recordDirectories(jobs: readonly RecordJob[]): RecordOutcome[] {
  const outcomes = new Map<string, RecordOutcome>();
  const racy = recordSome(jobs, outcomes);
  if (racy.jobs.length > RACY_WAIT_MIN) {
    sleepSync(racy.newestMs + RACY_MS + 1 - Date.now());
    recordSome(racy.jobs, outcomes);
  }
  return jobs.map((job) => outcomes.get(job.rel) as RecordOutcome);
}

function recordSome(jobs: readonly RecordJob[], into: Map<string, RecordOutcome>): { jobs: RecordJob[]; newestMs: number } {
  const now = Date.now();
  const racy = { jobs: [] as RecordJob[], newestMs: 0 };
  for (const job of jobs) {
    const path = join(job.dir, job.rel);
    const before = statSync(path, { throwIfNoEntry: false });
    if (before === undefined) {
      into.set(job.rel, { rel: job.rel, mtime: undefined });
      continue;
    }
    const entries = readdirSync(path)
      .filter((n) => !n.startsWith('.') && (isSidecar(n) || isDistName(n)))
      .sort();
    const after = statSync(path);
    const isSteady = dirStamp(before) === dirStamp(after) && sameList(entries, job.expected);
    const isRecent = now - after.mtimeMs <= RACY_MS;
    if (isSteady && isRecent) {
      racy.jobs.push(job);
      racy.newestMs = Math.max(racy.newestMs, after.mtimeMs);
    }
    into.set(job.rel, { rel: job.rel, mtime: isSteady && !isRecent ? dirStamp(after) : '0' });
  }
  return racy;
}

function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
