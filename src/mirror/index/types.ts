// What an index run is given and what it reports.
import type { FileRecord } from '../store/manifest.js';
import type { Tracer } from './tracer.js';

export interface IndexProblem {
  /** Path of the file, relative to the mirror. */
  path: string;
  message: string;
}

export interface IndexProgress {
  phase: 'scan' | 'inspect' | 'write';
  done: number;
  total: number;
}

export interface IndexOptions {
  dir: string;
  /** Re-stat and re-hash everything instead of trusting the manifest and directory mtimes. */
  full?: boolean;
  onProgress?: (progress: IndexProgress) => void;
  /** Called after each file the run writes or removes (tests kill the process here). */
  onStep?: (name: string) => void;
  /**
   * Files new to the index that the caller inspected already (sync inspects while it downloads), with
   * their `.metadata` written: used as they are, instead of inspecting again.
   */
  inspected?: ReadonlyMap<string, FileRecord>;
  /** Takes a line per phase with the time it took, and the probes' findings; none: nothing is timed. */
  tracer?: Tracer;
  /**
   * Called once the run has written its pages and `.metadata` files, before it records each directory's mtime
   * for the next run to trust: mirror export stamps its tree here, so the manifest records the stamped mtimes.
   */
  beforeRecord?: () => void;
}

export interface IndexResult {
  projects: number;
  files: number;
  /** Files read and hashed in this run (the rest came from the manifest). */
  inspected: number;
  /** Pages and metadata files (re)written in this run. */
  written: number;
  /** Generated files removed because their distribution is gone. */
  removed: number;
  /** Broken files: reported and skipped; the run still indexes everything else (and exits 1). */
  problems: IndexProblem[];
}
