// Find and lock the journal of a root, checking that it belongs to this very directory.
import { realpathSync, statSync } from 'node:fs';
import { StateError, UsageError } from '../errors.js';
import { JournalFile, stateDirOf } from './journal-file.js';
import { lockRoot } from './root-lock.js';

/** Resolve and check `--root`: an existing directory, as a real host path. */
export function realRootOf(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch (error) {
    throw new UsageError(`cannot use ${JSON.stringify(root)}: ${(error as Error).message}`, '--root');
  }
  if (!statSync(real).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(root)}`, '--root');
  return real;
}

/** Open the root's journal under its lock, checking that it belongs to this very root. */
export function openJournal(realRoot: string, stateRoot: string): { journal: JournalFile; release: () => void } {
  const dir = stateDirOf(stateRoot, realRoot);
  const release = lockRoot(`${dir}.lock`, realRoot);
  try {
    const journal = new JournalFile(dir).load();
    const begin = journal.records.find((r) => r.op === 'begin');
    const stat = statSync(realRoot, { bigint: true });
    if (begin && (begin.dev !== String(stat.dev) || begin.ino !== String(stat.ino))) {
      throw new StateError(
        `the journal ${journal.path} was written for another directory that was at ${realRoot}; ` +
          `it cannot be restored onto this one. Remove ${dir} if that directory is gone.`,
      );
    }
    return { journal, release };
  } catch (error) {
    release();
    throw error;
  }
}
