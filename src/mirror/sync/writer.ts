// How the sync's verified downloads enter the mirror: on one writer thread (writer-thread.ts), which writes
// each file to a hidden temp name, inspects it from memory (index record, PEP 658 `.metadata`), and renames it
// into place once this thread has appended the batch to the sync journal (one fdatasync per batch, see
// journal.ts). A name under its final name is always a verified file; a crash leaves only hidden temp
// files (removed by the next run) and perhaps a `.metadata` no page names yet (rewritten by the next run).
//
// Why a thread for the file system: on the main thread, the creates, writes and renames of tens of thousands
// of small files and the HTTP work of downloading them took turns on one core. Two threads that both
// create files do not help either: the file system's journal makes each create dearer when two cores create at
// once (more system time for the same files; bench/mirror-sync.ts). Split by resource instead,
// the main thread does the network and hashing, the writer thread all of the file system (bench/mirror-sync.ts).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DibPypiError } from '../../errors.js';
import type { FileRecord } from '../store/manifest.js';
import type { SyncJournal } from './journal.js';
import type { StageEntry, StagedItem, WriterReply, WriterRequest } from './writer-thread.js';

export interface PlaceRequest {
  /** Relative to the mirror: `<project>/<name>`. */
  path: string;
  target: string;
  algorithm: string;
  digest: string;
  /** The verified bytes; or else `temp`: a verified, closed temp file beside the target. */
  data?: Buffer;
  temp?: string;
  /** A distribution file (inspected for the index), not a sidecar. */
  isInspected: boolean;
}

export interface WriterLimits {
  /** Entries per message to the thread (a message sooner after `delayMs`). */
  batch: number;
  delayMs: number;
  /** Bytes handed over and not yet written, at most (room() waits beyond). */
  maxHeldBytes: number;
  /** Start a background syncfs at most this often while files keep coming (bounds what a run after a power loss re-hashes). */
  checkpointMs: number;
}

const DEFAULT_LIMITS: WriterLimits = { batch: 64, delayMs: 5, maxHeldBytes: 64 * 1024 * 1024, checkpointMs: 5_000 };

interface Entry {
  request: PlaceRequest;
  resolve: (record: FileRecord | undefined) => void;
  reject: (error: Error) => void;
  temp?: string;
  record?: FileRecord;
}

function workerScript(): string {
  return typeof __dirname === 'string' ? join(__dirname, 'sync-writer-thread.cjs') : fileURLToPath(new URL('./writer-thread.js', import.meta.url));
}

export class SyncWriter {
  readonly #limits: WriterLimits;
  #worker: Worker | undefined;
  readonly #entries = new Map<number, Entry>();
  #nextId = 0;
  #outbox: number[] = [];
  #outboxBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #heldBytes = 0;
  #roomWaiters: (() => void)[] = [];
  /** Staged, waiting for the journal. */
  #toJournal: number[] = [];
  #isJournaling = false;
  /** Journaled batches being renamed: their journal offset. */
  readonly #renaming = new Map<number, number>();
  #nextBatch = 0;
  #lastCheckpoint = Date.now();
  #failure: Error | undefined;
  #onSettled: (() => void) | undefined;

  constructor(
    private readonly dir: string,
    private readonly journal: SyncJournal,
    limits: Partial<WriterLimits> = {},
  ) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Resolves (with the file's index record, when inspected) once the file is in place under its final name, journaled; rejects saying why not (nothing is left under the final name). */
  place(request: PlaceRequest): Promise<FileRecord | undefined> {
    if (this.#failure !== undefined) {
      if (request.temp !== undefined) rmSync(request.temp, { force: true });
      return Promise.reject(this.#failure);
    }
    const id = ++this.#nextId;
    const promise = new Promise<FileRecord | undefined>((resolve, reject) => this.#entries.set(id, { request, resolve, reject }));
    const bytes = request.data?.length ?? 0;
    this.#heldBytes += bytes;
    this.#outboxBytes += bytes;
    this.#outbox.push(id);
    if (this.#outbox.length >= this.#limits.batch || this.#outboxBytes >= this.#limits.maxHeldBytes / 8) this.#send();
    else this.#timer ??= setTimeout(() => this.#send(), this.#limits.delayMs);
    return promise;
  }

  /** Resolves when the bytes handed over and not yet written are below the limit (call before downloading more). */
  room(): Promise<void> {
    if (this.#heldBytes < this.#limits.maxHeldBytes || this.#failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  /** Wait until everything placed has settled, then stop the thread. */
  async finish(): Promise<void> {
    this.#send();
    if (this.#entries.size > 0) await new Promise<void>((resolve) => (this.#onSettled = resolve));
    await this.close();
  }

  /** Stop the thread now (after a failure): what it had not renamed stays a hidden temp file, removed by the next run. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    const worker = this.#worker;
    this.#worker = undefined;
    this.#fail(new DibPypiError('the sync stopped before this file was in place'));
    await worker?.terminate();
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    // No resourceLimits: a smaller young generation than node's default tripled this thread's GC time.
    const worker = new Worker(workerScript());
    worker.postMessage({ kind: 'setup', dir: this.dir } satisfies WriterRequest);
    worker.on('message', (reply: WriterReply) =>
      reply.kind === 'staged' ? this.#staged(reply.items, reply.bytes) : this.#renamed(reply.batch, reply.done, reply.failed),
    );
    worker.on('error', (error) => this.#fail(new DibPypiError(`the writer thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => {
      if (this.#worker === worker) this.#fail(new DibPypiError(`the writer thread exited (code ${code})`));
    });
    return (this.#worker = worker);
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#outbox.length === 0 || this.#failure !== undefined) return;
    const ids = this.#outbox;
    this.#outbox = [];
    // The batch's bytes copied into one buffer, handed over whole: one transfer per message, not one per file.
    const arena = new Uint8Array(this.#outboxBytes);
    this.#outboxBytes = 0;
    let at = 0;
    const entries: StageEntry[] = ids.map((id) => {
      const { request } = this.#entries.get(id) as Entry;
      const entry: StageEntry = {
        id,
        path: request.path,
        target: request.target,
        isInspected: request.isInspected,
        ...(request.algorithm === 'sha256' ? { sha256: request.digest } : {}),
      };
      if (request.data !== undefined) {
        arena.set(request.data, at);
        entry.offset = at;
        entry.length = request.data.length;
        at += request.data.length;
        delete request.data; // the copy travels; the download's buffers can go
      } else if (request.temp !== undefined) entry.temp = request.temp;
      return entry;
    });
    this.#thread().postMessage({ kind: 'stage', entries, arena } satisfies WriterRequest, [arena.buffer]);
  }

  #staged(items: StagedItem[], bytes: number): void {
    this.#heldBytes -= bytes;
    if (this.#heldBytes < this.#limits.maxHeldBytes) for (const wake of this.#roomWaiters.splice(0)) wake();
    for (const item of items) {
      const entry = this.#entries.get(item.id);
      if (entry === undefined) continue;
      if ('error' in item) this.#settle(item.id, new DibPypiError(item.error));
      else {
        entry.temp = item.temp;
        if (item.record !== undefined) entry.record = item.record;
        this.#toJournal.push(item.id);
      }
    }
    this.#journalNext();
  }

  /** One journal append (and fdatasync) at a time; what is staged meanwhile goes in the next one, together. */
  #journalNext(): void {
    if (this.#isJournaling || this.#toJournal.length === 0 || this.#failure !== undefined) return;
    const ids = this.#toJournal;
    this.#toJournal = [];
    const entries = ids.map((id) => this.#entries.get(id) as Entry);
    this.#isJournaling = true;
    this.journal
      .record(entries.map((e) => ({ path: e.request.path, algorithm: e.request.algorithm, digest: e.request.digest })))
      .then(
        (offset) => {
          const batch = ++this.#nextBatch;
          this.#renaming.set(batch, offset);
          this.#worker?.postMessage({
            kind: 'rename',
            batch,
            items: ids.map((id, i) => ({ id, temp: entries[i]?.temp as string, target: entries[i]?.request.target as string })),
          } satisfies WriterRequest);
        },
        (error: unknown) => {
          this.#worker?.postMessage({ kind: 'discard', temps: entries.map((e) => e.temp as string) } satisfies WriterRequest);
          for (const id of ids) this.#settle(id, error instanceof Error ? error : new Error(String(error)));
        },
      )
      .finally(() => {
        this.#isJournaling = false;
        this.#journalNext();
      });
  }

  #renamed(batch: number, done: number[], failed: { id: number; error: string }[]): void {
    const offset = this.#renaming.get(batch) as number;
    this.#renaming.delete(batch);
    this.journal.renamed(
      offset,
      done.map((id) => (this.#entries.get(id) as Entry).request.path),
    );
    for (const { id, error } of failed) this.#settle(id, new DibPypiError(error));
    for (const id of done) this.#settle(id);
    if (Date.now() - this.#lastCheckpoint >= this.#limits.checkpointMs) {
      this.#lastCheckpoint = Date.now();
      this.journal.checkpointSoon();
    }
  }

  #settle(id: number, error?: Error): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    if (error === undefined) entry.resolve(entry.record);
    else entry.reject(error);
    if (this.#entries.size === 0) this.#onSettled?.();
  }

  /** The thread is gone (or the run stops): everything waiting fails, and so does every later file. */
  #fail(error: Error): void {
    this.#failure ??= error;
    for (const wake of this.#roomWaiters.splice(0)) wake();
    for (const id of [...this.#entries.keys()]) this.#settle(id, this.#failure);
  }
}
