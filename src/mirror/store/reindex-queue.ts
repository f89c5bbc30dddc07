// Asking for a re-index of the mirror after a change (an upload, a cached download): one run at a time, requests made while a run is going share the next run.
import { StateError } from '../../errors.js';
import type { IndexResult } from '../index/types.js';

export type IndexRun = () => Promise<IndexResult>;

/** How long to wait for another indexer (a `dib-pypi mirror index` run by hand) to finish. */
const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 100;

export class ReindexQueue {
  readonly #run: IndexRun;
  #current: Promise<IndexResult> | undefined;
  #next: Promise<IndexResult> | undefined;

  constructor(run: IndexRun) {
    this.#run = run;
  }

  /** Resolves after a run that started after this call has finished. */
  request(): Promise<IndexResult> {
    if (this.#current === undefined) return this.#start();
    this.#next ??= this.#current.catch(() => undefined).then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<IndexResult> {
    const run = this.#withLockRetry().finally(() => {
      if (this.#current === run) this.#current = undefined;
    });
    this.#current = run;
    return run;
  }

  async #withLockRetry(): Promise<IndexResult> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        return await this.#run();
      } catch (error) {
        if (!(error instanceof StateError) || Date.now() > deadline) throw error;
        await new Promise((done) => setTimeout(done, LOCK_POLL_MS));
      }
    }
  }
}
