// The serving process's re-index, run in a worker thread of its own (index-thread.ts): one run at a
// time (ReindexQueue sees to that), the event loop free for requests meanwhile.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DibPypiError, StateError } from '../errors.js';
import type { IndexResult } from '../mirror/index/types.js';
import type { IndexThreadReply } from './index-thread.js';

function workerScript(): string {
  return typeof __dirname === 'string' ? join(__dirname, 'index-thread.cjs') : fileURLToPath(new URL('./index-thread.js', import.meta.url));
}

export class IndexInThread {
  readonly #dir: string;
  #worker: Worker | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (result: IndexResult) => void; reject: (error: Error) => void }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** One index run of the mirror; a run refused because another holds the mirror's lock rejects with a StateError. */
  run(): Promise<IndexResult> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref(); // a run in flight keeps the process alive; an idle thread does not
      worker.postMessage(id);
    });
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(workerScript(), { workerData: { dir: this.#dir } });
    worker.unref();
    worker.on('message', (reply: IndexThreadReply) => {
      const pending = this.#pending.get(reply.id);
      if (pending === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if ('result' in reply) pending.resolve(reply.result);
      else pending.reject(reply.isState ? new StateError(reply.error) : new DibPypiError(reply.error));
    });
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(new DibPypiError(`the index thread stopped: ${error.message}`));
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.#worker = worker;
    return worker;
  }
}
