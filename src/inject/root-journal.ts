// Find and lock the journal of a root, checking that it belongs to this very directory and that no one else could have written it.
import { realpathSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { NotADirectoryError, StateError, UnusablePathError } from '../errors.js';
import { checkStateDir, checkStateFiles, ensureStateDir, trustedOwners } from '../fs/trust-dir.js';
import { JournalFile, stateDirOf } from './journal-file.js';
import { checkJournalRecords } from './journal-rules.js';
import { lockRoot } from '../fs/process-lock.js';

/** Resolve and check the root: an existing directory, as a real host path. */
export function realRootOf(root: string): string {
  let real: string;
  try {
    real = realpathSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnusablePathError(
      'root',
      root,
      `cannot use ${JSON.stringify(root)}: ${code === 'ENOENT' ? 'no such directory' : (code ?? (error as Error).message)}`,
    );
  }
  if (!statSync(real).isDirectory()) throw new NotADirectoryError('root', root);
  return real;
}

/** Who may own a state directory: root, us, and the sudo user when run through sudo (src/fs/trust-dir.ts). */
export function defaultTrustedOwners(): ReadonlySet<number> {
  return trustedOwners(process.env, process.getuid?.() ?? 0);
}

/**
 * Open the root's journal under its lock, checking that it belongs to this very root.
 * Order matters: the state directory, the lock and every journal file are checked first (nothing
 * created, locked or truncated before); then the lock is taken; then the journal is read (a torn
 * tail cut off) and its records checked as a whole against what configure can write.
 */
export function openJournal(realRoot: string, stateRoot: string, owners = defaultTrustedOwners()): { journal: JournalFile; release: () => void } {
  const name = basename(stateDirOf('/', realRoot));
  const realState = checkStateDir(stateRoot, owners, ['roots', `roots/${name}`]);
  const dir = stateDirOf(realState, realRoot);
  checkStateFiles(dir, owners, [`${dir}.lock`]);
  ensureStateDir(realState, ['roots'], owners);
  const release = lockRoot(`${dir}.lock`, realRoot);
  try {
    const journal = new JournalFile(dir).load();
    checkJournalRecords(journal.records, journal.path);
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
