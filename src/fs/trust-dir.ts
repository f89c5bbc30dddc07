// Whether a state directory and the journal files in it may be believed: checked from / down, as OpenSSH's safe_path and systemd's chase(CHASE_SAFE) do.
//
// A journal tells a root-run `restore` which files to write, with which owner and mode, and which
// to delete: whoever can write it can make restore do that. So a state directory is trusted only
// when no one but root or the invoking user could have put anything in it, or swapped it or a
// directory above it: every directory from / down to it is owned by one of them and writable by
// no group and no other user. A sticky directory such as /tmp (mode 1777) may sit *above* the
// state directory: there the next entry down can be renamed or deleted only by its owner, and its
// owner is checked in turn. The state directory itself and everything below it must be strict.
//
// Symlinks: the existing part of the path is resolved with realpath once, and the *real* chain is
// checked; every later step uses that real path, so a link (even one an attacker owns in /tmp)
// cannot be swapped afterwards. State directories legitimately sit behind links (/var/run -> /run,
// a home on another disk), which is why links are resolved rather than refused.
// Missing directories are created one at a time (mkdir never follows a link in its last component
// and fails on an existing entry), and each is checked after it exists, so a directory someone
// else creates in the window between check and mkdir is refused, not used.
import { lstatSync, mkdirSync, readdirSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StateError } from '../errors.js';

/** A state path dib-pypi refuses to believe: which path, and why. */
export class UntrustedPathError extends StateError {
  readonly path: string;
  readonly reason: string;
  /** `stateDir`: the state directory being checked, when `path` is another (a parent, a journal file). */
  constructor(path: string, reason: string, stateDir?: string) {
    const which = stateDir === undefined || stateDir === path ? 'untrusted state directory:' : `untrusted state directory ${stateDir}:`;
    super(`${which} ${path} ${reason}, so others could forge what restore does; nothing was changed`);
    this.path = path;
    this.reason = reason;
  }
}

/**
 * The owners a state path may have: root and the real uid; when run as root through sudo, also
 * SUDO_UID (the DIB element runs `sudo -E dib-pypi`, and disk-image-create's `$TMP_BUILD_DIR` is
 * owned by the user who ran it). Whoever may run dib-pypi as root can already point pip in any
 * root at an index of their choice, so trusting their files grants them nothing new.
 */
export function trustedOwners(env: Readonly<Record<string, string | undefined>>, uid: number): ReadonlySet<number> {
  const owners = new Set([0, uid]);
  const sudoUid = env.SUDO_UID;
  if (uid === 0 && sudoUid !== undefined && /^\d{1,10}$/.test(sudoUid)) owners.add(Number(sudoUid));
  return owners;
}

function ownerText(owners: ReadonlySet<number>): string {
  const others = [...owners].filter((u) => u !== 0).sort((a, b) => a - b);
  return ['root', ...others.map((u) => `uid ${u}`)].join(' or ');
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function writers(mode: number): string {
  const group = (mode & 0o020) !== 0;
  const other = (mode & 0o002) !== 0;
  return group && other ? 'its group and others' : group ? 'its group' : 'others';
}

/**
 * Why a directory on the chain is not to be trusted, or undefined when it is. `isAbove`: it lies
 * strictly above the state directory, where a sticky, trusted-owned directory (/tmp) is allowed.
 */
export function untrustedDirReason(stat: Stats, owners: ReadonlySet<number>, isAbove: boolean): string | undefined {
  if (stat.isSymbolicLink()) return 'is a symlink';
  if (!stat.isDirectory()) return 'is not a directory';
  if (!owners.has(stat.uid)) return `is owned by uid ${stat.uid}, not by ${ownerText(owners)}`;
  if ((stat.mode & 0o022) !== 0 && !(isAbove && (stat.mode & 0o1000) !== 0)) {
    return `is writable by ${writers(stat.mode)} (mode ${octal(stat.mode)})${isAbove ? ' and not sticky' : ''}`;
  }
  return undefined;
}

/** Why a journal, backup or lock file is not to be trusted, or undefined when it is. */
export function untrustedFileReason(stat: Stats, owners: ReadonlySet<number>): string | undefined {
  if (stat.isSymbolicLink()) return 'is a symlink';
  if (!stat.isFile()) return 'is not a regular file';
  if (!owners.has(stat.uid)) return `is owned by uid ${stat.uid}, not by ${ownerText(owners)}`;
  if ((stat.mode & 0o022) !== 0) return `is writable by ${writers(stat.mode)} (mode ${octal(stat.mode)})`;
  if (stat.nlink !== 1) return `has ${stat.nlink} hard links (another name could change it)`;
  return undefined;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new StateError(`cannot examine the state path ${path}: ${code ?? (error as Error).message}`);
  }
}

/** `path` made absolute, its longest existing prefix resolved with realpath: `{ real, missing }`. */
function resolveExisting(path: string): { real: string; missing: string[] } {
  let existing = resolve(path);
  const missing: string[] = [];
  for (;;) {
    try {
      return { real: realpathSync(existing), missing };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || existing === dirname(existing))
        throw new StateError(`cannot use the state directory ${path}: ${code ?? (error as Error).message}`);
      missing.unshift(basename(existing));
      existing = dirname(existing);
    }
  }
}

/** Every directory from / down to `real` (inclusive). */
function chainOf(real: string): string[] {
  const chain = ['/'];
  for (const part of real.split('/').filter(Boolean)) chain.push(join(chain.at(-1) as string, part));
  return chain;
}

/**
 * Check the state directory `path` and each directory above it; then each of `below` (paths
 * relative to it: `roots`, `roots/<name>`) that exists, strictly. Creates nothing.
 * Returns the real path of the state directory (its missing components appended).
 */
export function checkStateDir(path: string, owners: ReadonlySet<number>, below: string[] = []): string {
  const { real, missing } = resolveExisting(path);
  const target = join(real, missing.join('/'));
  for (const dir of chainOf(real)) {
    const reason = untrustedDirReason(lstatSync(dir), owners, dir !== target);
    if (reason !== undefined) throw new UntrustedPathError(dir, reason, target);
  }
  if (missing.length > 0) return target;
  for (const relative of below) {
    const dir = join(target, relative);
    const stat = lstatOrUndefined(dir);
    if (stat === undefined) break;
    const reason = untrustedDirReason(stat, owners, false);
    if (reason !== undefined) throw new UntrustedPathError(dir, reason, target);
  }
  return target;
}

/** Check the files directly in `dir` (journal, backups, their temps), if `dir` exists. */
export function checkStateFiles(dir: string, owners: ReadonlySet<number>, extra: string[] = []): void {
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new StateError(`cannot list the state directory ${dir}: ${(error as NodeJS.ErrnoException).code}`);
  }
  for (const file of [...names.map((n) => join(dir, n)), ...extra]) {
    const stat = lstatOrUndefined(file);
    if (stat === undefined) continue;
    const reason = untrustedFileReason(stat, owners);
    if (reason !== undefined) throw new UntrustedPathError(file, reason);
  }
}

/**
 * Make sure the state directory and `below` (relative paths, parents first: `roots`) exist:
 * create each missing component (mode 0700) one at a time, never through a link, check each as it
 * is made, then check the whole chain again, so a directory someone else made between an earlier
 * check and now (in a sticky /tmp, say) is refused before anything is written into it.
 */
export function ensureStateDir(stateDir: string, below: string[], owners: ReadonlySet<number>): void {
  const target = join(stateDir, below.at(-1) ?? '');
  const { real, missing } = resolveExisting(target);
  let dir = real;
  for (const part of missing) {
    dir = join(dir, part);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new StateError(`cannot create the state directory ${dir}: ${code ?? (error as Error).message}`);
    }
    const reason = untrustedDirReason(lstatSync(dir), owners, false);
    if (reason !== undefined) throw new UntrustedPathError(dir, reason, stateDir);
  }
  checkStateDir(stateDir, owners, below);
}
