// Asking for a re-index of the mirror after a change (an upload, a cached download): one run at a time, requests made while a run is going share the next run.
import { StateError } from '../../errors.js';
/** One run of the index, given by whoever composes the store with the index (the index sits above the store). */
export type IndexRun<Result> = () => Promise<Result>;

/** How long to wait for another indexer (a `dib-pypi mirror index` run by hand) to finish. */
const LOCK_WAIT_MS = 60_000;
const LOCK_POLL_MS = 100;

export class ReindexQueue<Result> {
  readonly #run: IndexRun<Result>;
  #current: Promise<Result> | undefined;
  #next: Promise<Result> | undefined;

  constructor(run: IndexRun<Result>) {
    this.#run = run;
  }

  /** Resolves after a run that started after this call has finished. */
  request(): Promise<Result> {
    if (this.#current === undefined) return this.#start();
    this.#next ??= this.#current
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    return this.#next;
  }

  #start(): Promise<Result> {
    const run = this.#withLockRetry().finally(() => {
      if (this.#current === run) this.#current = undefined;
    });
    this.#current = run;
    return run;
  }

  async #withLockRetry(): Promise<Result> {
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
