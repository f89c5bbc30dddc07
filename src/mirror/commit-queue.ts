// Verified downloads enter the mirror in batches: fsync a batch of temp files together (the file system
// groups their journal commits; one fsync per file costs 3-4x the whole download, see bench/mirror-sync.ts),
// then rename each to its final name and fsync the directories. So a file under its final name is always
// verified and on disk, and a crash at any point leaves only hidden temp files (removed by the next run).
import { dirname } from 'node:path';
import { closeSync, fsync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { mapLimit } from './map-limit.js';

interface Entry {
  temp: string;
  /** The temp file's descriptor when the caller still has it open (the queue fsyncs and closes it). */
  fd: number | undefined;
  target: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const FSYNC_PARALLEL = 16;

export class CommitQueue {
  #pending: Entry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly batchSize = 256,
    private readonly maxDelayMs = 250,
  ) {}

  /**
   * Resolves once `temp` is durable under the name `target`; on failure the temp is removed and the promise rejects.
   * With `fd` (the temp's open descriptor, handed over): fsynced and closed by the queue, not opened again.
   */
  commit(temp: string, target: string, fd?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ temp, fd, target, resolve, reject });
      if (this.#pending.length >= this.batchSize) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
    });
  }

  /** Commit what is queued now (after any flush already running). */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(() => commitBatch(batch));
    return this.#flushing;
  }
}

/** Never rejects: each entry's own promise carries its outcome (a later batch must still run). */
async function commitBatch(batch: Entry[]): Promise<void> {
  if (batch.length === 0) return;
  const synced = await mapLimit(batch, FSYNC_PARALLEL, async (entry) => {
    try {
      if (entry.fd !== undefined) {
        const fd = entry.fd;
        entry.fd = undefined;
        try {
          await fsyncFd(fd);
        } finally {
          closeSync(fd);
        }
        return true;
      }
      const file = await open(entry.temp, 'r');
      try {
        await file.sync();
      } finally {
        await file.close();
      }
      return true;
    } catch (error) {
      await rm(entry.temp, { force: true });
      entry.reject(error);
      return false;
    }
  });
  const dirs = new Set<string>();
  for (const [i, entry] of batch.entries()) {
    if (!synced[i]) continue;
    try {
      await rename(entry.temp, entry.target);
      dirs.add(dirname(entry.target));
    } catch (error) {
      await rm(entry.temp, { force: true });
      entry.reject(error);
      synced[i] = false;
    }
  }
  let dirError: unknown;
  await mapLimit([...dirs], FSYNC_PARALLEL, (dir) => fsyncDir(dir).catch((error: unknown) => void (dirError ??= error))); // the renames, durable
  for (const [i, entry] of batch.entries()) {
    if (!synced[i]) continue;
    if (dirError === undefined) entry.resolve();
    else entry.reject(dirError);
  }
}

/** fsync with the callback API: one thread-pool round trip, no FileHandle. */
function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
