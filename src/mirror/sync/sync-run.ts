// One sync run's state, shared by its stages: the options, the upstream client, the writer, what the run has done so far.
import { redact } from '../../redact.js';
import type { SimpleIndexClient } from '../../upstream/simple-client.js';
import type { Semaphore } from '../../async/semaphore.js';
import type { FileRecord, Manifest } from '../store/manifest.js';
import type { SyncJournal } from './journal.js';
import type { SyncOptions } from './options.js';
import type { SyncState } from './state.js';
import type { SyncEvents, SyncProgress, SyncResult } from './types.js';
import type { SyncWriter } from './writer.js';

export interface SyncRun {
  options: SyncOptions;
  events: SyncEvents;
  client: SimpleIndexClient;
  /** The index's manifest (its hashes spare re-hashing files already in place), loaded when a changed page first needs it. */
  manifest: () => Manifest;
  state: SyncState;
  next: SyncState;
  slots: Semaphore;
  journal: SyncJournal;
  /** Writes, inspects and journals each verified download into place, on its own thread. */
  writer: SyncWriter;
  /** Records of the files downloaded and inspected this run (the re-index takes them instead of reading the files again). */
  inspected: Map<string, FileRecord>;
  result: SyncResult;
  progress: SyncProgress;
  lastSave: number;
  /** Anything written or removed in DIR this run (else, after a finished re-index, there is nothing to index). */
  isChanged: boolean;
  /** What says the upstream's state (SyncState.rootMark), when every project was taken from the root page. */
  rootMark?: string;
  /** How many names the root page listed (when every project was taken from it). */
  rootProjectCount?: number;
  /** When the run started (performance.now()), for the tracer's lines. */
  started: number;
}

/** The settings that change what a project's files should be: another set means pages must be read again. */
export function settingsKey(options: SyncOptions): string {
  return JSON.stringify({ filters: options.filters, isDelete: options.isDelete });
}

/** `make()` on the first call, its value on every call after. */
export function lazy<T>(make: () => T): () => T {
  let value: { made: T } | undefined;
  return () => (value ??= { made: make() }).made;
}

/** A failure of one project or file: listed by the caller at the end (the run goes on). */
export function fail(run: SyncRun, project: string, filename: string | undefined, error: unknown): void {
  const message = redact(error instanceof Error ? error.message : String(error));
  run.result.failed.push(filename === undefined ? { project, message } : { project, filename, message });
}
