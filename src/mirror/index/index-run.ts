// One index run's state, handed from stage to stage: what the run started from, what it found and what it has done so far.
import type { Manifest, ManifestHead } from '../store/manifest.js';
import type { ShardSet } from './index-shards.js';
import type { IndexWorkers } from './inspect-pool.js';
import type { Scan, TopDir } from './scan-mirror.js';
import type { IndexOptions, IndexProblem } from './types.js';

export interface IndexRun {
  dir: string;
  options: IndexOptions;
  /** Trust nothing: list every directory, inspect every file, write every page. */
  full: boolean;
  head: ManifestHead;
  /** The head's directory records and the shards loaded so far: what the last run saw. Only read. */
  manifest: Manifest;
  /** The records after this run, edited as it goes. */
  next: Manifest;
  shards: ShardSet;
  /** The top level (`''`) and every project directory, as statTopLevel found them. */
  top: TopDir[];
  /** Directories listed this run rather than trusted (plan.ts untrustedDirs). */
  untrusted: Set<string>;
  /** The top level and every project directory there is now. */
  present: Set<string>;
  /** The stat probe found the inodes coming from the disk. */
  isCold: boolean;
  scan: Scan;
  /** Projects whose pages change: files or sidecars added, changed or gone. */
  dirtyProjects: Set<string>;
  /** Directories this run wrote into or removed from (relative). */
  touchedDirs: Set<string>;
  /** A directory record changed (the manifest must be saved). */
  isChanged: boolean;
  workers: IndexWorkers;
  written: number;
  removed: number;
  /** Per project, the CRCs of its pages now (ManifestHead.pageCrcs). */
  pageCrcs: Record<string, string>;
  problems: IndexProblem[];
  /** Traces each phase with the time since the last (tracer.ts). */
  clock: (phase: string) => void;
}

/** Note one file this run wrote (or removed) in `rel`, for the result and the step hook. */
export function noteWritten(run: IndexRun, rel: string | undefined, step: string): void {
  run.written++;
  if (rel !== undefined) run.touchedDirs.add(rel);
  run.options.onStep?.(step);
}
