// One dib-pypi at a time per root: a lock file with the holder's pid; a dead holder's lock is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from '../errors.js';

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the lock at `path` for `root`; returns the release function. `activity` names what the holder does, for the message. */
export function lockRoot(path: string, root: string, activity = 'configured or restored'): () => void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      // vanished or unreadable: try again
    }
    if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
      throw new StateError(`${root} is being ${activity} by another dib-pypi (pid ${holder}); lock ${path}`);
    }
    rmSync(path, { force: true }); // the holder died (e.g. SIGKILL): its lock is stale
  }
  throw new StateError(`cannot take the lock ${path} for ${root}`);
}
