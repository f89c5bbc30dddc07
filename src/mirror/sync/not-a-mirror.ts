// A sync into a directory that is not a mirror yet, failing before its first download, leaves the directory as it was.
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimesExact } from '../../fs/set-times.js';
import { STATE_DIR } from '../store/layout.js';
import type { SyncRun } from './sync-run.js';

/** A directory that is not a mirror yet (no DIR/.dib-pypi), as it was before the sync: what to give back if it fails before any download. */
export interface NotAMirror {
  dir: string;
  /** Undefined when DIR did not exist. */
  entries?: Set<string>;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

export function recordNotAMirror(dir: string): NotAMirror | undefined {
  if (existsSync(join(dir, STATE_DIR))) return undefined;
  const stat = lstatSync(dir, { bigint: true, throwIfNoEntry: false });
  if (stat === undefined) return { dir };
  return { dir, entries: new Set(readdirSync(dir)), atimeNs: stat.atimeNs, mtimeNs: stat.mtimeNs };
}

/** Remove what the failed sync made in DIR (or DIR itself, when it made it), and give DIR its times back. */
export function restoreNotAMirror(before: NotAMirror): void {
  if (before.entries === undefined) {
    rmSync(before.dir, { recursive: true, force: true });
    return;
  }
  for (const name of readdirSync(before.dir)) if (!before.entries.has(name)) rmSync(join(before.dir, name), { recursive: true, force: true });
  setTimesExact([{ hostPath: before.dir, atimeNs: before.atimeNs as bigint, mtimeNs: before.mtimeNs as bigint }]);
}

/** Whether a run ended (by failures or an error) before anything reached the mirror. */
export function failedBeforeAnyChange(run: SyncRun | undefined, hasThrown: boolean): boolean {
  if (run === undefined) return hasThrown;
  return (hasThrown || run.result.failed.length > 0) && run.result.downloaded === 0 && run.result.deleted === 0 && !run.isChanged;
}
