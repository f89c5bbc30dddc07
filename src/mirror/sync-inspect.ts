// While sync downloads, one worker thread inspects each file as soon as it is committed (hash, METADATA, the
// PEP 658 `.metadata` file), so the final re-index only writes pages instead of reading every new file again.
import { Worker } from 'node:worker_threads';
import type { InspectJob, InspectOutcome } from './inspect-job.js';
import { workerScript } from './inspect-pool.js';
import type { FileRecord } from './manifest.js';

const BATCH = 64;
/** Fewer files than this wait (at most WAIT_MS) for more before a message goes: each message wakes the thread, and on a small machine that costs the downloads. */
const MIN_BATCH = 32;
const WAIT_MS = 50;
/** Bytes of downloads held for the thread at most; past this, it reads the files from disk (when it lags behind). */
const MAX_HELD_BYTES = 64 * 1024 * 1024;

interface Pending {
  path: string;
  data?: Buffer;
  sha256?: string;
}

export class BackgroundInspector {
  readonly records = new Map<string, FileRecord>();
  #worker: Worker | undefined;
  #pending: Pending[] = [];
  #heldBytes = 0;
  #isBusy = false;
  #failure: Error | undefined;
  #onIdle: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #isFinishing = false;

  constructor(private readonly dir: string) {}

  /** Inspect `path` (relative to the mirror) when the thread gets to it; with its bytes (copied when the batch goes) and sha256 when in memory. */
  add(path: string, data?: Buffer, sha256?: string): void {
    if (data !== undefined && this.#heldBytes + data.length <= MAX_HELD_BYTES) {
      this.#heldBytes += data.length;
      this.#pending.push({ path, data, ...(sha256 === undefined ? {} : { sha256 }) });
    } else this.#pending.push({ path });
    this.#next();
  }

  /** Wait until everything added is inspected, stop the thread, return the records (an error stops inspection: the index redoes those files). */
  async finish(): Promise<Map<string, FileRecord>> {
    this.#isFinishing = true;
    this.#next();
    if (this.#isBusy || this.#pending.length > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    await this.#worker?.terminate();
    this.#worker = undefined;
    return this.records;
  }

  #next(isDue = false): void {
    if (this.#isBusy || this.#failure) return;
    if (this.#pending.length === 0) {
      this.#onIdle?.();
      return;
    }
    if (this.#pending.length < MIN_BATCH && !isDue && !this.#isFinishing) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#next(true);
      }, WAIT_MS);
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0, BATCH);
    // The batch's bytes copied into one buffer, handed over whole: one transfer per message, not one per file.
    const arena = new Uint8Array(batch.reduce((sum, p) => sum + (p.data?.length ?? 0), 0));
    let at = 0;
    const jobs: InspectJob[] = batch.map(({ path, data, sha256 }) => {
      const job: InspectJob = { dir: this.dir, path, isNew: true, ...(sha256 === undefined ? {} : { sha256 }) };
      if (data !== undefined) {
        arena.set(data, at);
        job.data = arena.subarray(at, at + data.length);
        at += data.length;
      }
      return job;
    });
    for (const p of batch) this.#heldBytes -= p.data?.length ?? 0;
    this.#isBusy = true;
    this.#worker ??= this.#start();
    this.#worker.postMessage({ kind: 'inspect', jobs }, arena.length > 0 ? [arena.buffer] : []);
  }

  #start(): Worker {
    const worker = new Worker(workerScript(), { resourceLimits: { maxYoungGenerationSizeMb: 32, maxOldGenerationSizeMb: 96 } });
    worker.on('message', (outcomes: InspectOutcome[]) => {
      for (const outcome of outcomes) if (outcome.record !== undefined && outcome.record.problem === undefined) this.records.set(outcome.path, outcome.record);
      this.#isBusy = false;
      this.#next();
    });
    worker.on('error', (error) => {
      this.#failure = error;
      this.#isBusy = false;
      this.#pending = [];
      this.#onIdle?.();
    });
    return worker;
  }
}
