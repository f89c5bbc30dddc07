// The indexer's worker threads: file inspection and page writing spread over a few threads in batches, or inline when there are few jobs.
// As many threads as cores when the files are in the page cache (all CPU work), more when they come from the disk (the reads wait).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { runInspectJob, type InspectJob, type InspectOutcome } from './inspect-job.js';
import { isColdRead, spread } from './read-probe.js';
import type { WorkerRequest } from './inspect-worker.js';
import { writeProjectPages, type PageJob, type PageOutcome } from './page-writer.js';
import { recordDirectories, type RecordJob, type RecordOutcome } from './record-dirs.js';
import { appendAll } from '../../append-all.js';
import type { Tracer } from './tracer.js';

const BATCH = 64;
/** Batches a thread holds at once: it starts the next while the last outcomes travel back and the main thread scans on. */
const IN_FLIGHT = 2;
/** Below this many jobs, starting threads costs more than it saves. */
const INLINE_MAX = 256;
/** Threads for files in the page cache at most (one per core), and for files read from the disk. */
const WARM_THREADS_MAX = 4;
const COLD_THREADS = 4;
/** Each thread keeps little alive: a small young generation keeps its garbage (and the process's peak memory) small. */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 96 };

/** The worker script: beside the bundle (dist/cli/inspect-worker.cjs), or beside this module when run from tsc output. */
export function workerScript(): string {
  return typeof __dirname === 'string' ? join(__dirname, 'inspect-worker.cjs') : fileURLToPath(new URL('./inspect-worker.js', import.meta.url));
}

/**
 * How many threads inspect files and write pages. From the page cache, reading, hashing and creating
 * files is all CPU work: one thread per core does it with fewer switches and less duplicated JIT
 * compiling than more threads (bench/mirror-index.ts). From the disk, reads wait, and four threads
 * overlap the waits. `DIB_PYPI_INDEX_THREADS` overrides both.
 */
export function indexThreads(isCold: boolean, env: NodeJS.ProcessEnv = process.env): number {
  const forced = Number(env.DIB_PYPI_INDEX_THREADS);
  if (Number.isInteger(forced) && forced > 0) return forced;
  return isCold ? COLD_THREADS : Math.max(2, Math.min(WARM_THREADS_MAX, availableParallelism()));
}

/** See IndexWorkers.openInspection. */
export interface InspectStream {
  add(jobs: InspectJob[]): void;
  /** No more jobs: every outcome, in completion order (inline ones in order). */
  finish(): Promise<InspectOutcome[]>;
}

export class IndexWorkers {
  private workers: Worker[] = [];
  private threads: number | undefined;

  /** `tracer`: where the read probe's timings go. */
  constructor(private readonly tracer?: Tracer) {}

  /** Threads started so far (0: the jobs ran inline). */
  get started(): number {
    return this.workers.length;
  }

  /**
   * Inspection jobs taken as the caller finds them (the indexer's scan hands over each chunk of
   * directories it lists), so the threads hash while the main thread goes on listing. Up to
   * INLINE_MAX jobs in all run inline at `finish`; past that the threads start (sized by the read
   * probe of the first jobs) and take batches as soon as there are enough. The caller should yield
   * to the event loop between chunks: outcomes coming back are what sends the next batches.
   */
  openInspection(onDone: (done: number, queued: number) => void): InspectStream {
    const queue: InspectJob[] = [];
    let sent = 0;
    let isFinished = false;
    const outcomes: InspectOutcome[] = [];
    const inFlight = new Map<Worker, number>();
    let settle: { resolve: (outcomes: InspectOutcome[]) => void; reject: (error: unknown) => void } | undefined;
    let failure: { error: unknown } | undefined;
    const detach = () => {
      for (const worker of inFlight.keys()) {
        worker.off('message', receivers.get(worker) as (batch: InspectOutcome[]) => void);
        worker.off('error', fail);
      }
    };
    const fail = (error: unknown) => {
      failure ??= { error };
      detach();
      settle?.reject(error);
    };
    const receivers = new Map<Worker, (batch: InspectOutcome[]) => void>();
    const startThreads = () => {
      this.threads ??= indexThreads(
        isColdRead(
          spread(queue.filter((job) => job.data === undefined)).map((job) => join(job.dir, job.path)),
          this.tracer,
        ),
      );
      for (const worker of this.start()) {
        const receive = (batch: InspectOutcome[]) => {
          inFlight.set(worker, (inFlight.get(worker) as number) - 1);
          appendAll(outcomes, batch);
          onDone(outcomes.length, queue.length);
          pump();
        };
        receivers.set(worker, receive);
        inFlight.set(worker, 0);
        worker.on('message', receive);
        worker.once('error', fail);
      }
    };
    const pump = () => {
      if (failure !== undefined) return;
      if (inFlight.size === 0) {
        if (queue.length <= INLINE_MAX) return;
        startThreads();
      }
      for (const [worker, count] of inFlight) {
        let n = count;
        while (n < IN_FLIGHT && (queue.length - sent >= BATCH || (isFinished && queue.length > sent))) {
          const to = Math.min(queue.length, sent + BATCH);
          worker.postMessage({ kind: 'inspect', jobs: queue.slice(sent, to) } satisfies WorkerRequest);
          sent = to;
          n++;
        }
        inFlight.set(worker, n);
      }
      if (isFinished && sent === queue.length && [...inFlight.values()].every((n) => n === 0)) {
        detach();
        settle?.resolve(outcomes);
      }
    };
    const runInline = async () => {
      for (const job of queue) {
        outcomes.push(await runInspectJob(job));
        onDone(outcomes.length, queue.length);
      }
      return outcomes;
    };
    return {
      add: (jobs) => {
        if (isFinished) throw new Error('inspection jobs added after finish');
        appendAll(queue, jobs);
        pump();
      },
      finish: () => {
        isFinished = true;
        if (failure !== undefined) return Promise.reject(failure.error);
        if (inFlight.size === 0 && queue.length <= INLINE_MAX) return runInline();
        return new Promise<InspectOutcome[]>((resolve, reject) => {
          settle = { resolve, reject };
          pump();
        });
      },
    };
  }

  /**
   * Write `count` projects' pages; `make(i)` builds the i-th job when a thread is about to need it,
   * so the main thread builds pages while the threads write the ones before.
   */
  async writePages(count: number, make: (i: number) => PageJob, onDone: (done: number) => void): Promise<PageOutcome[]> {
    if (count <= INLINE_MAX) {
      const outcomes: PageOutcome[] = [];
      for (let i = 0; i < count; i++) {
        outcomes.push(writeProjectPages(make(i)));
        onDone(outcomes.length);
      }
      return outcomes;
    }
    return this.dispatch<PageOutcome>('pages', count, (from, to) => Array.from({ length: to - from }, (_, k) => make(from + k)), onDone);
  }

  /**
   * Record the directories of `jobs` (record-dirs.ts): inline when they are few, else on the threads,
   * while the main thread serializes the manifest.
   */
  async recordDirectories(jobs: RecordJob[]): Promise<RecordOutcome[]> {
    if (jobs.length <= INLINE_MAX) return recordDirectories(jobs);
    return this.dispatch<RecordOutcome>(
      'record',
      jobs.length,
      (from, to) => jobs.slice(from, to),
      () => {},
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }

  private start(): Worker[] {
    if (this.workers.length === 0)
      this.workers = Array.from({ length: (this.threads ??= indexThreads(false)) }, () => new Worker(workerScript(), { resourceLimits: RESOURCE_LIMITS }));
    return this.workers;
  }

  /**
   * Hand out batches to whichever thread is free, IN_FLIGHT per thread (a thread starts its next
   * batch while its last outcomes travel back and the main thread prepares another); results come
   * back in completion order.
   */
  private dispatch<T>(
    kind: WorkerRequest['kind'],
    count: number,
    take: (from: number, to: number) => (InspectJob | PageJob | RecordJob)[],
    onDone: (done: number) => void,
  ): Promise<T[]> {
    const outcomes: T[] = [];
    let next = 0;
    const feed = (worker: Worker) =>
      new Promise<void>((resolve, reject) => {
        let inFlight = 0;
        const send = () => {
          if (next >= count) return;
          const to = Math.min(count, next + BATCH);
          worker.postMessage({ kind, jobs: take(next, to) });
          next = to;
          inFlight++;
        };
        const receive = (batch: T[]) => {
          inFlight--;
          appendAll(outcomes, batch);
          onDone(outcomes.length);
          send();
          if (inFlight === 0) {
            worker.off('message', receive);
            worker.off('error', reject);
            resolve();
          }
        };
        worker.on('message', receive);
        worker.once('error', reject);
        for (let i = 0; i < IN_FLIGHT; i++) send();
        if (inFlight === 0) {
          worker.off('message', receive);
          worker.off('error', reject);
          resolve();
        }
      });
    return Promise.all(this.start().map(feed)).then(() => outcomes);
  }
}
