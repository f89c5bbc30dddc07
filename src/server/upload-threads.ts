// A few worker threads for the upload server's CPU-bound work (bcrypt, BLAKE2b), so that it never stalls the event loop (downloads, pages).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ThreadReply, ThreadRequest } from './upload-thread.js';

function workerScript(): string {
  return typeof __dirname === 'string' ? join(__dirname, 'upload-thread.cjs') : fileURLToPath(new URL('./upload-thread.js', import.meta.url));
}

/** The pool has this many comparisons waiting: more are refused at once (the caller answers 503). */
export class BcryptBusyError extends Error {}

interface Pending {
  resolve: (reply: ThreadReply) => void;
  reject: (error: Error) => void;
  thread: Thread;
}

interface Thread {
  worker: Worker;
  running: number;
}

export interface UploadThreadsOptions {
  /** Threads (default 2): each comparison keeps one core busy for its whole cost. */
  threads?: number;
  /** Password comparisons queued or running at most (default 64). */
  maxPending?: number;
}

/**
 * Threads start on the first comparison and are unref'd: an idle pool never keeps the process
 * alive. A thread that dies fails its comparisons (as "no match" is not right: they reject) and
 * is replaced on the next one.
 */
export class UploadThreads {
  readonly #size: number;
  readonly #maxPending: number;
  readonly #threads: Thread[] = [];
  readonly #pending = new Map<number, Pending>();
  #comparisons = 0;
  #nextId = 0;

  constructor(options: UploadThreadsOptions = {}) {
    this.#size = Math.max(1, options.threads ?? 2);
    this.#maxPending = Math.max(1, options.maxPending ?? 64);
  }

  /** Whether `password` matches the bcrypt `hash` ($2a$, $2b$; $2y$ is read as $2b$); rejects with BcryptBusyError past maxPending. */
  async compare(password: string, hash: string): Promise<boolean> {
    if (this.#comparisons >= this.#maxPending) throw new BcryptBusyError(`${this.#comparisons} password checks are waiting already`);
    this.#comparisons++;
    try {
      const reply = await this.#run({ kind: 'bcrypt', password, hash: hash.replace(/^\$2y\$/, '$2b$') });
      return 'ok' in reply && reply.ok;
    } finally {
      this.#comparisons--;
    }
  }

  /** BLAKE2b-256 (hex) of the file at `path`, computed on a thread (JavaScript BLAKE2b: tens of MB/s). */
  async blake2b256(path: string): Promise<string> {
    const reply = await this.#run({ kind: 'blake2b256', path });
    if ('digest' in reply) return reply.digest;
    throw new Error('error' in reply ? reply.error : 'no digest');
  }

  #run(request: ThreadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never): Promise<ThreadReply> {
    const thread = this.#pick();
    const id = ++this.#nextId;
    return new Promise<ThreadReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, thread });
      thread.running++;
      thread.worker.ref();
      thread.worker.postMessage({ ...request, id } as ThreadRequest);
    });
  }

  /** Stop the threads; waiting comparisons reject. */
  async close(): Promise<void> {
    const threads = this.#threads.splice(0);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  /** The least busy thread, starting one while the pool is not full. */
  #pick(): Thread {
    const idle = this.#threads.find((thread) => thread.running === 0);
    if (idle !== undefined) return idle;
    if (this.#threads.length < this.#size) return this.#start();
    return this.#threads.reduce((best, thread) => (thread.running < best.running ? thread : best));
  }

  #start(): Thread {
    const thread: Thread = { worker: new Worker(workerScript()), running: 0 };
    thread.worker.unref();
    thread.worker.on('message', (reply: ThreadReply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      this.#settled(thread);
      pending.resolve(reply);
    });
    const fail = (error: Error) => {
      const index = this.#threads.indexOf(thread);
      if (index !== -1) this.#threads.splice(index, 1);
      for (const [id, pending] of this.#pending) {
        if (pending.thread !== thread) continue;
        this.#pending.delete(id);
        this.#settled(thread);
        pending.reject(error);
      }
    };
    thread.worker.on('error', fail);
    thread.worker.on('exit', (code) => fail(new Error(`the password-check thread exited (code ${code})`)));
    this.#threads.push(thread);
    return thread;
  }

  #settled(thread: Thread): void {
    thread.running--;
    if (thread.running === 0) thread.worker.unref();
  }
}
