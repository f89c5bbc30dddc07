// What a sync reports as it goes and when it is done.
import type { IndexProgress, IndexResult } from '../index/types.js';
import type { Tracer } from '../index/tracer.js';

export interface SyncFailure {
  project: string;
  filename?: string;
  message: string;
}

export interface SyncProgress {
  projectsDone: number;
  projectsTotal: number;
  filesDone: number;
  filesQueued: number;
  bytes: number;
}

export interface SyncEvents {
  onProgress?: (progress: SyncProgress) => void;
  /** A line worth keeping (a retry, a skipped entry). */
  onLog?: (line: string) => void;
  /** After each file renamed into place (tests kill the process here). */
  onStep?: (name: string) => void;
  /** The final re-index's progress. */
  onIndexProgress?: (progress: IndexProgress) => void;
  /** Takes a line per phase with the time it took (the re-index's too); none: nothing is timed. */
  tracer?: Tracer;
}

/** A file a dry run would download. */
export interface WouldDownload {
  project: string;
  filename: string;
  size?: number;
}

export interface SyncResult {
  projects: number;
  /** Projects whose page had not changed since the last complete sync (not even planned). */
  unchanged: number;
  downloaded: number;
  /** Wanted files already in the mirror with the right hash. */
  present: number;
  deleted: number;
  /** Whole projects removed (--delete, every project synced): no longer on the upstream's root page, or excluded. */
  deletedProjects: number;
  bytes: number;
  /** Files the filters left out, entries upstream listed but we could not use, files without a sha-2 hash. */
  skipped: number;
  failed: SyncFailure[];
  /** Projects of which no file passes the filters (or the upstream lists none): not synced, no directory made. */
  skippedProjects: { project: string; reason: string }[];
  wouldDownload?: WouldDownload[];
  index?: IndexResult;
}
