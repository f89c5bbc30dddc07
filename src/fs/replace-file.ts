// Replace a file atomically for readers (temp beside it, rename), without fsync: for generated files that a re-run rebuilds.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { tempPathFor } from './atomic-write.js';

/**
 * A reader sees the old bytes or the new ones, never a mix, and a killed writer leaves only a
 * temp file (`.name.tmp-<pid>-<n>`, which the next run removes). No fsync: these files are
 * derived, and the manifest that vouches for them is written durably last.
 */
export function replaceFile(target: string, data: string | Uint8Array): void {
  const temp = tempPathFor(target);
  try {
    writeFileSync(temp, data, { mode: 0o644, flag: 'wx' });
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Temp names that replaceFile and writeFileAtomic leave behind when killed. */
export const TEMP_NAME = /^\..+\.tmp-\d+-\d+$/;
