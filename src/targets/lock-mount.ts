// The lock of a `docker build --lock FILE`: a BuildKit secret mounted in every RUN, so it is in no layer, history or config.
//
// The secret's mount point is a file in /tmp, which every image has: BuildKit removes the empty
// file it creates there after each RUN (it would keep a directory it had to create).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_PATH } from '../inject/target-paths.js';

export const LOCK_SECRET = 'dib-pypi-lock';

/** The `--mount` flag every RUN gets for the lock: readable by a `USER app` stage too, as pip.conf. */
export function lockRunMount(): string {
  return `--mount=type=secret,id=${LOCK_SECRET},target=${LOCK_PATH},mode=0444`;
}

/** Write the lock's exact text into the build's private temp directory; returns docker build's `--secret` arguments for it. */
export function lockSecretArgs(workDir: string, lockText: string): string[] {
  const file = join(workDir, 'requirements.lock');
  writeFileSync(file, lockText, { mode: 0o600, flag: 'wx' });
  return ['--secret', `id=${LOCK_SECRET},src=${file}`];
}
