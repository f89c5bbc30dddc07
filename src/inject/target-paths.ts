// Where configure writes in a root, for a home: the paths alone, without rendering (restore's journal check loads this, not the renderer). Pure.
import { posix } from 'node:path';
import { InputError } from '../errors.js';

export interface TargetPath {
  /** Path inside the root as pip sees it (symlinks in it are resolved inside the root). */
  path: string;
  /** Which content goes there: pip.conf, .pydistutils.cfg, or the lock (only when there is one). */
  kind: 'pip' | 'distutils' | 'lock';
  /** `system` files are owned by root; `home` files by the owner of the home directory. */
  ownedBy: 'system' | 'home';
  /** Only replaced when it already exists, to neutralise it; never created. */
  onlyIfPresent: boolean;
}

/**
 * Where a target sees the lock given with `--lock`: a file in a directory every image has, beside
 * the mirror's /tmp/pypi. Not in a directory of its own: BuildKit removes the empty file it creates
 * as a secret's mount point after each RUN, but keeps a directory it had to create for one.
 */
export const LOCK_PATH = '/tmp/pypi-requirements.lock';

/** The home directory as an absolute in-root path; `..` is resolved lexically and cannot climb above `/`. */
export function normalizeHome(home: string): string {
  if (!home.startsWith('/')) throw new InputError('home', `must be an absolute path inside the root: ${JSON.stringify(home)}`);
  if (home.includes('\0')) throw new InputError('home', 'contains a NUL byte');
  const normal = posix.normalize(home);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * pip (23+) loads, later winning: /etc/xdg/pip/pip.conf, /etc/pip.conf, ~/.pip/pip.conf,
 * ~/.config/pip/pip.conf; a command section ([install]) in any of them beats [global].
 * /etc/pip.conf reaches every user of the image; the other three are replaced only when they
 * exist, so that nothing the image already has can outrank or extend the plan for the home user.
 * The lock is written only when there is one (target-files.ts).
 */
export function targetPathsFor(home: string): TargetPath[] {
  const homeDir = normalizeHome(home);
  return [
    { path: '/etc/xdg/pip/pip.conf', kind: 'pip', ownedBy: 'system', onlyIfPresent: true },
    { path: '/etc/pip.conf', kind: 'pip', ownedBy: 'system', onlyIfPresent: false },
    { path: posix.join(homeDir, '.pip/pip.conf'), kind: 'pip', ownedBy: 'home', onlyIfPresent: true },
    { path: posix.join(homeDir, '.config/pip/pip.conf'), kind: 'pip', ownedBy: 'home', onlyIfPresent: true },
    { path: posix.join(homeDir, '.pydistutils.cfg'), kind: 'distutils', ownedBy: 'home', onlyIfPresent: false },
    { path: LOCK_PATH, kind: 'lock', ownedBy: 'system', onlyIfPresent: false },
  ];
}
