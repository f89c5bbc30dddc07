// Where journals live on the host: outside every root, so a build cannot forge what restore will do.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EnvMap } from '../plan/types.js';

/** --state-dir, else DIB_PYPI_STATE_DIR, else /var/lib/dib-pypi for root, else the XDG state home. */
export function defaultStateRoot(env: EnvMap, uid: number, flag?: string): string {
  if (flag) return flag;
  if (env.DIB_PYPI_STATE_DIR) return env.DIB_PYPI_STATE_DIR;
  if (uid === 0) return '/var/lib/dib-pypi';
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local/state'), 'dib-pypi');
}
