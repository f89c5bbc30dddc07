// `mirror yank` / `mirror unyank` (PEP 592): write or remove the `.yanked` sidecar of every file of one version,
// under the mirror's change lock, then re-index so that the pages say so.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fsyncPath } from '../../fs/atomic-write.js';
import { replaceFile } from '../../fs/replace-file.js';
import { InputError } from '../../errors.js';
import { YANKED, yankedText } from './layout.js';
import { lockMirror } from './lock.js';
import { findTargetFiles } from './mirror-target.js';
import type { RemovalTarget } from './removal-record.js';
import { finishRemovals, type ChangeHooks } from './remove-files.js';

/** The longest yank reason kept: it is shown by pip and in every page. */
export const MAX_REASON_CHARS = 1000;

export interface YankOutcome<Result> {
  /** The distribution files of the version, relative to the mirror. */
  files: string[];
  /** How many `.yanked` sidecars were written or removed (0: they were as asked already). */
  changed: number;
  index: Result;
}

/** A yank reason as given (pure): one line of printable text, at most MAX_REASON_CHARS. */
export function checkReason(reason: string): string {
  // C0 and C1 controls (a terminal's escape sequences: pip prints the reason), line and paragraph separators, and the bidi controls that reorder what a reader sees.
  if (/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(reason)) throw new InputError('reason', 'one line of text, without control characters');
  if (reason.length > MAX_REASON_CHARS) throw new InputError('reason', `longer than ${MAX_REASON_CHARS} characters`);
  return reason.trim();
}

/**
 * Yank (`reason` a string, may be empty) or unyank (`reason` null) every file of `target.version`: the
 * sidecars are written atomically, the directories fsynced, then the mirror is re-indexed. Throws
 * NotInMirrorError when the mirror has no file of that version.
 */
export async function setYanked<Result>(dir: string, target: RemovalTarget, reason: string | null, hooks: ChangeHooks<Result>): Promise<YankOutcome<Result>> {
  if (target.version === undefined || target.file !== undefined) throw new InputError('project', 'give PROJECT==VERSION: a whole version is yanked');
  await finishRemovals(dir, hooks);
  const release = lockMirror(dir, 'change');
  try {
    const files = findTargetFiles(dir, target);
    let changed = 0;
    const dirs = new Set<string>();
    for (const file of files) {
      const sidecar = join(dir, `${file.rel}${YANKED}`);
      if (reason === null) {
        try {
          rmSync(sidecar);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw error;
        }
      } else replaceFile(sidecar, yankedText(reason));
      changed++;
      dirs.add(dirname(sidecar));
      hooks.onStep?.(`${reason === null ? 'unyanked' : 'yanked'} ${file.rel}`);
    }
    for (const path of dirs) fsyncPath(path);
    const index = await hooks.reindex();
    return { files: files.map((f) => f.rel), changed, index };
  } finally {
    release();
  }
}
