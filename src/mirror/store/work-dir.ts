// `mirror add`'s work directory: inside the mirror's state directory, so that its files move in by link (same file system).
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../fs/process-lock.js';
import { addWorkOwner, addWorkPrefix, stateDir } from './layout.js';

/** A fresh work directory, after removing those that killed runs left. */
export function makeAddWorkDir(mirror: string): string {
  const state = stateDir(mirror);
  mkdirSync(state, { recursive: true });
  for (const name of readdirSync(state)) {
    const pid = addWorkOwner(name);
    if (pid !== undefined && pid !== process.pid && !isAlive(pid)) rmSync(join(state, name), { recursive: true, force: true });
  }
  return mkdtempSync(join(state, addWorkPrefix(process.pid)));
}
