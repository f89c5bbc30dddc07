// Shared types of the mirror: what inspecting a distribution file yields, what an index run reports.
import type { FileRecord } from './manifest.js';

/** A distribution file name, parsed (wheel per the wheel spec, sdist per PEP 625 / legacy). */
export interface DistFilename {
  kind: 'wheel' | 'sdist';
  /** The name as spelled in the file name. */
  name: string;
  /** PEP 503-normalised project name. */
  normalized: string;
  version: string;
  /** Wheels only: build tag, and the `python-abi-platform` tag triple. */
  build?: string;
  pythonTag?: string;
  abiTag?: string;
  platformTag?: string;
}

/** The fields of core metadata (METADATA / PKG-INFO) the mirror uses. */
export interface CoreMetadata {
  metadataVersion?: string;
  name: string;
  version: string;
  requiresPython?: string;
  requiresDist: string[];
  providesExtra: string[];
}

/** One distribution file, inspected: hashed while read once, its metadata extracted. */
export interface InspectedDistribution {
  filename: DistFilename;
  size: number;
  sha256: string;
  /** Wheels: the exact bytes of `<name>-<version>.dist-info/METADATA` (PEP 658 serves them as is). */
  metadata?: Buffer;
  metadataSha256?: string;
  /** Parsed from the wheel's METADATA or the sdist's PKG-INFO, when there is one. */
  core?: CoreMetadata;
}

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
