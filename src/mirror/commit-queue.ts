// Verified temp files enter the mirror in batches: the batch's names and digests are appended to the sync
// journal (one fdatasync of the journal for the whole batch, see sync-journal.ts), then each temp file is
// renamed to its final name. No fsync per file or directory: the journal's syncfs checkpoints make them
// durable, and a run after a power loss re-hashes what the journal lists past the last checkpoint. A name
// under its final name is always a verified file; a crash leaves only hidden temp files (removed next run).
import { renameSync, rmSync } from 'node:fs';
import type { JournalEntry, SyncJournal } from './sync-journal.js';

export interface CommitRequest extends JournalEntry {
  /** The verified, closed temp file (beside the target). */
  temp: string;
  /** The final path. */
  target: string;
}

interface Entry extends CommitRequest {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class CommitQueue {
  #pending: Entry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #lastCheckpoint = Date.now();

  constructor(
    private readonly journal: SyncJournal,
    private readonly batchSize = 256,
    private readonly maxDelayMs = 100,
    /** Start a background syncfs at most this often while files keep coming (bounds what a run after a power loss re-hashes). */
    private readonly checkpointMs = 5_000,
  ) {}

  /** Resolves once `temp` is in place under `target`, journaled; on failure the temp is removed and the promise rejects. */
  commit(request: CommitRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ...request, resolve, reject });
      if (this.#pending.length >= this.batchSize) void this.flush();
      else this.#timer ??= setTimeout(() => void this.flush(), this.maxDelayMs);
    });
  }

  /** Commit what is queued now (after any flush already running). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(() => this.#commitBatch(batch));
    return this.#flushing;
  }

  /** Never rejects: each entry's own promise carries its outcome (a later batch must still run). */
  async #commitBatch(batch: Entry[]): Promise<void> {
    if (batch.length === 0) return;
    let offset: number;
    try {
      offset = await this.journal.record(batch);
    } catch (error) {
      for (const entry of batch) rmSync(entry.temp, { force: true });
      for (const entry of batch) entry.reject(error);
      return;
    }
    // Synchronous renames: without fsyncs they take microseconds; a thread-pool hop per file costs more (see download-file.ts).
    const done = batch.map((entry) => {
      try {
        renameSync(entry.temp, entry.target);
        return true;
      } catch (error) {
        rmSync(entry.temp, { force: true });
        entry.reject(error);
        return false;
      }
    });
    this.journal.renamed(
      offset,
      batch.filter((_, i) => done[i]).map((e) => e.path),
    );
    for (const [i, entry] of batch.entries()) if (done[i]) entry.resolve();
    if (Date.now() - this.#lastCheckpoint >= this.checkpointMs) {
      this.#lastCheckpoint = Date.now();
      this.journal.checkpointSoon();
    }
  }
}
