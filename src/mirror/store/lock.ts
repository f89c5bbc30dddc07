// The mirror's lock: one index run, one sync and one change (remove, yank) at a time per mirror, `DIR/.dib-pypi/<job>.lock` holding the pid.
import { mkdirSync } from 'node:fs';
import { lockRoot } from '../../fs/process-lock.js';
import { lockPath, stateDir, type MirrorJob } from './layout.js';

const ACTIVITY: Record<MirrorJob, string> = { index: 'indexed', sync: 'synced', change: 'changed (remove, yank)' };

/** Take `job`'s lock of the mirror `dir` (creating its state directory); returns the release function. */
export function lockMirror(dir: string, job: MirrorJob): () => void {
  // Made here with the default mode (lockRoot's own mkdir would make it 0700, and others read the mirror).
  mkdirSync(stateDir(dir), { recursive: true });
  return lockRoot(lockPath(dir, job), dir, ACTIVITY[job]);
}
