// The server's changes of its mirror (remove, yank, unyank): one at a time in this process, each re-indexed
// through the shared queue before it is answered, its pages and files then forgotten by the caches.
import type { IndexResult } from '../mirror/index/types.js';
import { describeTarget, NotInMirrorError } from '../mirror/store/mirror-target.js';
import type { RemovalTarget } from '../mirror/store/removal-record.js';
import { removeFromMirror } from '../mirror/store/remove-files.js';
import { setYanked } from '../mirror/store/yank-files.js';
import { InputError, StateError } from '../errors.js';
import { redact } from '../redact.js';

export interface MirrorChangesOptions {
  dir: string;
  /** A re-index that starts after the call (the queue shared with uploads and the cache). */
  reindex: () => Promise<IndexResult>;
  /** The pages of `project` changed and these paths (relative to DIR) are gone or changed: drop cached copies. */
  onChanged: (project: string, paths: readonly string[]) => void;
  log: (line: string) => void;
}

/** What a change did, as the JSON API answers it. */
export interface ChangeResult {
  action: 'remove' | 'yank' | 'unyank';
  project: string;
  version?: string;
  file?: string;
  /** The distribution files removed, or whose yank changed, relative to the mirror. */
  files: string[];
}

/** An error of a change as an HTTP status and message: no such thing 404, bad input 400, the mirror busy 503. */
export function changeErrorStatus(error: unknown): { status: number; message: string } | undefined {
  if (error instanceof NotInMirrorError) return { status: 404, message: error.message };
  if (error instanceof InputError) return { status: 400, message: error.message };
  if (error instanceof StateError) return { status: 503, message: `${error.message}; retry` };
  return undefined;
}

export class MirrorChanges {
  readonly #options: MirrorChangesOptions;
  /** The change lock is per process id (lockRoot): changes of this process wait for each other here. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(options: MirrorChangesOptions) {
    this.#options = options;
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#last.catch(() => undefined).then(run);
    this.#last = next;
    return next;
  }

  #reindex = async (): Promise<IndexResult> => {
    const result = await this.#options.reindex();
    for (const problem of result.problems) this.#options.log(`warning: broken file not served: ${problem.path}: ${problem.message}`);
    return result;
  };

  remove(target: RemovalTarget, user: string): Promise<ChangeResult> {
    return this.#serial(async () => {
      const outcome = await removeFromMirror(this.#options.dir, target, { reindex: this.#reindex });
      this.#options.onChanged(target.project, outcome.paths);
      this.#options.log(`removed ${describeTarget(target)} (${outcome.files.length} files) by ${redact(user)}`);
      return { action: 'remove', ...target, files: outcome.files };
    });
  }

  /** Yank (`reason` a string) or unyank (null) one version. */
  yank(target: RemovalTarget, reason: string | null, user: string): Promise<ChangeResult> {
    return this.#serial(async () => {
      const outcome = await setYanked(this.#options.dir, target, reason, { reindex: this.#reindex });
      this.#options.onChanged(
        target.project,
        outcome.files.map((f) => `${f}.yanked`),
      );
      const action = reason === null ? 'unyank' : 'yank';
      this.#options.log(`${action} ${describeTarget(target)} by ${redact(user)}`);
      return { action, ...target, files: outcome.files };
    });
  }
}
