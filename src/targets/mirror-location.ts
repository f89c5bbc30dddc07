// Where the mirror is: the DIB element's default (`$DIB_IMAGE_CACHE/pypi/mirror`) or `--mirror`, and where it is mounted in a root.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NotADirectoryError } from '../errors.js';
import type { EnvMap } from '../plan/types.js';

/** Where the mirror appears inside a root: the DIB contract's `file:///tmp/pypi`. */
export const MIRROR_MOUNT = '/tmp/pypi';

/** The element's default mirror: `$DIB_IMAGE_CACHE/pypi/mirror` (DIB_IMAGE_CACHE defaults to ~/.cache/image-create). */
export function defaultMirror(env: EnvMap): string {
  const cache = env.DIB_IMAGE_CACHE || join(env.HOME || homedir(), '.cache', 'image-create');
  return join(cache, 'pypi', 'mirror');
}

/** A mirror directory given must be a directory; without one, the default mirror is used when it exists. */
export function resolveMirror(dir: string | undefined, env: EnvMap): string | undefined {
  if (dir !== undefined) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NotADirectoryError('mirror', dir);
    return realpathSync(dir);
  }
  const fallback = defaultMirror(env);
  return existsSync(fallback) && statSync(fallback).isDirectory() ? realpathSync(fallback) : undefined;
}
