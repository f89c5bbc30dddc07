// A root configured for a plan, its mounts made: one object that owns both and gives the root back, for every caller.
import type { Plan } from '../plan/types.js';
import { configureRoot } from './configure-root.js';
import { mountInRoot, type MountSpec } from './mounts-in-root.js';
import { restoreRoot, type RestoreResult } from './restore-root.js';
import type { StepHook } from './step-hook.js';

export interface ConfiguredRootOptions {
  root: string;
  home: string;
  plan: Plan;
  /** Host directory for journals and backups (never inside the root). */
  stateRoot: string;
  /** Made after pip is configured, in this order; their mount points are created (journaled) by configure. */
  mounts: MountSpec[];
  onStep?: StepHook;
  /** The text of a lock to install against: written into the root with pip's files, restored with them. */
  lock?: string;
  /** Told each warning as it arises: configure's (competing pip config, once the mounts are made) and restore's. */
  warn?: (text: string) => void;
}

/**
 * What `configure` changed in a root: pip's files, then the mounts. The journal in `stateRoot`
 * stays the only record of it, so a process killed at any point leaves a root that
 * `dib-pypi restore` still gives back byte for byte; this object only saves the caller from
 * writing the configure, mount, roll-back sequence again. `restore()` (or disposing it, as
 * `using` does) unmounts, then puts back every file, replaying that journal.
 */
export class ConfiguredRoot implements Disposable {
  /** The real path of the root. */
  readonly root: string;
  /** In-root paths written, in order. */
  readonly written: string[];
  /** Competing pip configuration found in the root. */
  readonly warnings: string[];
  readonly mounts: MountSpec[];
  readonly #options: ConfiguredRootOptions;
  #restored: RestoreResult | undefined;

  private constructor(options: ConfiguredRootOptions, root: string, written: string[], warnings: string[]) {
    this.#options = options;
    this.root = root;
    this.written = written;
    this.warnings = warnings;
    this.mounts = options.mounts;
  }

  /**
   * Configure pip in the root, then make the mounts. A configure that fails part-way has already
   * rolled itself back (configure-root.ts); a mount that fails rolls back everything, mounts made
   * before it included, and the mount's error is thrown.
   */
  static configure(options: ConfiguredRootOptions): ConfiguredRoot {
    const { root, home, plan, stateRoot, onStep } = options;
    const result = configureRoot({ root, home, plan, stateRoot, dirs: options.mounts.map((m) => m.target), onStep, lock: options.lock });
    const configured = new ConfiguredRoot(options, result.root, result.written, result.warnings);
    if (options.mounts.length > 0) {
      try {
        mountInRoot({ root, stateRoot, mounts: options.mounts, onStep });
      } catch (error) {
        configured.restore();
        throw error;
      }
    }
    for (const warning of result.warnings) options.warn?.(warning);
    return configured;
  }

  /** Unmount and give back every file (journal-driven, crash-safe); a second call returns the first one's result. */
  restore(): RestoreResult {
    if (this.#restored !== undefined) return this.#restored;
    const { root, stateRoot, onStep } = this.#options;
    this.#restored = restoreRoot({ root, stateRoot, onStep });
    for (const warning of this.#restored.warnings) this.#options.warn?.(warning);
    return this.#restored;
  }

  [Symbol.dispose](): void {
    this.restore();
  }
}
