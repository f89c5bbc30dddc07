// A response body handed to one consumer chunk by chunk, with backpressure on the connection.
/** The most bytes of a body read only to be thrown away (dump) before its connection is dropped instead. */
const DUMP_BYTES = 64 * 1024;
const CUT_OFF = new Error('body not wanted');

/** Bytes held for a consumer that has not asked yet before the connection is paused. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * A response body for one consumer: forEach (each chunk as it arrives; a returned promise pauses the
 * connection until it settles), text or dump. Chunks that arrive before the consumer asks are held (the
 * connection pauses past HIGH_WATER_BYTES). Rejects with the network error, or with the consumer's own.
 */
export class ResponseBody {
  #held: Buffer[] = [];
  #heldBytes = 0;
  #isEnded = false;
  #error: Error | undefined;
  #isPaused = false;
  #isTaken = false;
  readonly #resume: () => void;
  readonly #abort: ((error?: Error) => void) | undefined;
  #sink: ((chunk: Buffer) => void | Promise<void>) | undefined;
  #settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  /** A consumer's promise being waited for: chunks meanwhile are held. */
  #waiting = false;

  constructor(resume: () => void, abort: ((error?: Error) => void) | undefined) {
    this.#resume = resume;
    this.#abort = abort;
  }

  /** @internal From the handler: false asks undici to pause the connection. */
  push(chunk: Buffer): boolean {
    if (this.#error !== undefined) return false;
    // llhttp reports an empty body span when it is resumed after a pause: nothing to deliver (handing it on
    // to a consumer that answers with a promise would pause and resume the connection forever).
    if (chunk.length === 0) return true;
    if (this.#sink !== undefined && !this.#waiting && this.#held.length === 0) {
      this.#deliver(chunk);
      if (this.#error !== undefined) return false;
      if (!this.#waiting) return true;
      this.#isPaused = true;
      return false;
    }
    this.#held.push(chunk);
    this.#heldBytes += chunk.length;
    if (this.#heldBytes >= HIGH_WATER_BYTES || this.#waiting) {
      this.#isPaused = true;
      return false;
    }
    return true;
  }

  /** @internal */
  end(): void {
    this.#isEnded = true;
    this.#drain();
  }

  /** @internal */
  fail(error: Error): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#held = [];
    this.#settle?.reject(error);
    this.#settle = undefined;
  }

  /** Call `fn` with each chunk, in order; resolves after the last. A promise `fn` returns is awaited before the next chunk. */
  forEach(fn: (chunk: Buffer) => void | Promise<void>): Promise<void> {
    if (this.#isTaken) return Promise.reject(new Error('response body already consumed'));
    this.#isTaken = true;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject };
      this.#sink = fn;
      this.#drain();
    });
  }

  /** The whole body as UTF-8 text. */
  async text(): Promise<string> {
    const chunks: Buffer[] = [];
    await this.forEach((chunk) => void chunks.push(chunk));
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Read and discard the body, so the connection stays reusable; past DUMP_BYTES (an error page
   * that never ends) the connection is dropped instead.
   */
  async dump(): Promise<void> {
    let bytes = 0;
    try {
      await this.forEach((chunk) => {
        bytes += chunk.length;
        if (bytes > DUMP_BYTES) throw CUT_OFF;
      });
    } catch (error) {
      if (error !== CUT_OFF) throw error;
    }
  }

  /** Drop the rest of the body unread (the connection is closed unless it had ended). */
  async cancel(): Promise<void> {
    try {
      await this.forEach(() => {
        throw CUT_OFF;
      });
    } catch (error) {
      if (error !== CUT_OFF) throw error;
    }
  }

  /** Hand one chunk to the consumer; a thrown error or a rejected promise ends the request. */
  #deliver(chunk: Buffer): void {
    let pending: void | Promise<void>;
    try {
      pending = (this.#sink as (chunk: Buffer) => void | Promise<void>)(chunk);
    } catch (error) {
      this.#consumerFailed(error as Error);
      return;
    }
    if (pending === undefined || typeof (pending as Promise<void>).then !== 'function') return;
    this.#waiting = true;
    (pending as Promise<void>).then(
      () => {
        this.#waiting = false;
        this.#drain();
      },
      (error: unknown) => this.#consumerFailed(error as Error),
    );
  }

  /** Deliver what is held, then finish or resume the connection. */
  #drain(): void {
    if (this.#sink === undefined || this.#error !== undefined) return;
    while (this.#held.length > 0 && !this.#waiting) {
      const chunk = this.#held.shift() as Buffer;
      this.#heldBytes -= chunk.length;
      this.#deliver(chunk);
      if (this.#error !== undefined) return;
    }
    if (this.#waiting) return;
    if (this.#isEnded) {
      this.#settle?.resolve();
      this.#settle = undefined;
      return;
    }
    if (this.#isPaused) {
      this.#isPaused = false;
      this.#resume();
    }
  }

  #consumerFailed(error: Error): void {
    const settle = this.#settle;
    this.#settle = undefined;
    this.#waiting = false;
    this.#error = error;
    this.#held = [];
    if (!this.#isEnded) this.#abort?.(error); // the rest of the response is not wanted: the connection is dropped
    settle?.reject(error);
  }
}
