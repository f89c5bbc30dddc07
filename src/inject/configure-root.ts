// Point pip at the plan's indexes inside a root filesystem: journal first, then atomic writes. The only writer.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  statSync,
  type BigIntStats,
} from 'node:fs';
import { basename, posix } from 'node:path';
import { ConfinementError, InternalError, StateError } from '../errors.js';
import { restoreRoot } from './restore-root.js';
import { fsyncPath, tempPathFor, writeFileAtomic, type FileOwnership } from '../fs/atomic-write.js';
import { assertNotOnInnerMount, mountsBelow } from '../fs/mounts.js';
import { pinDirInRoot, type PinnedDir } from '../fs/pinned-dir.js';
import { hostPathOf, resolveDirInRoot } from '../fs/resolve-in-root.js';
import type { Plan } from '../plan/types.js';
import { findCompetingConfig } from './competing-config.js';
import type { JournalRecord } from './journal-format.js';
import { JournalFile } from './journal-file.js';
import { MOUNT_POINTS } from './journal-rules.js';
import { checkMountPoint } from './mounts-in-root.js';
import { openJournal, realRootOf } from './root-journal.js';
import type { StepHook } from './step-hook.js';
import { normalizeHome, planTargetFiles, type TargetFile } from './target-files.js';

export interface ConfigureOptions {
  root: string;
  home: string;
  plan: Plan;
  /** Host directory for journals and backups (never inside the root). */
  stateRoot: string;
  /** Directories to make sure exist inside the root (mount points), created journaled. */
  dirs?: string[];
  /** The text of a lock to install against (written at LOCK_PATH, target-paths.ts). */
  lock?: string;
  onStep?: StepHook;
}

export interface ConfigureResult {
  root: string;
  /** In-root paths written, in order. */
  written: string[];
  warnings: string[];
}

interface Context {
  root: string;
  journal: JournalFile;
  innerMounts: string[];
  step: StepHook;
  /** In-root paths already in the journal (kept from a first configure: never backed up twice). */
  recorded: Set<string>;
  /** Physical paths written by this run. */
  writtenNow: Set<string>;
  defaults: { system: FileOwnership; home: FileOwnership };
}

/**
 * Configure pip in `root` for the plan. Idempotent: a second run keeps the first run's backups.
 * If a first configure fails part-way (a refused symlink, a full disk), what it did is rolled back
 * before the error is thrown, so a failed configure leaves the root as it was.
 */
export function configureRoot(options: ConfigureOptions): ConfigureResult {
  const root = realRootOf(options.root);
  const home = normalizeHome(options.home);
  const step = options.onStep ?? (() => {});
  for (const dir of options.dirs ?? []) {
    if (!(dir in MOUNT_POINTS)) throw new InternalError(`configure asked to create ${dir}, which is no mount point of dib-pypi (journal-rules.ts)`);
    checkMountPoint(root, dir); // before anything changes: a redirectable mount point is refused
  }
  let { journal, release } = openJournal(root, options.stateRoot);
  let isFresh = false;
  try {
    if (journal.records.at(-1)?.op === 'restored') {
      journal.discard(); // an earlier restore finished its replay but not its clean-up
      journal = new JournalFile(journal.dir);
    }
    isFresh = !journal.records.some((r) => r.op === 'configured');
    if (!journal.records.some((r) => r.op === 'begin')) {
      const stat = statSync(root, { bigint: true });
      journal.append({ op: 'begin', root, dev: String(stat.dev), ino: String(stat.ino) });
      step('journal begun');
    }
    // Before any of its files: restore allows only the files and directories of journaled homes.
    if (!journal.records.some((r) => r.op === 'home' && r.path === home)) journal.append({ op: 'home', path: home });
    const ctx: Context = {
      root,
      journal,
      innerMounts: mountsBelow(root),
      step,
      recorded: new Set(journal.records.flatMap((r) => ('path' in r && r.op !== 'temp' && r.op !== 'home' ? [r.path] : []))),
      defaults: defaultOwnership(root, home),
      writtenNow: new Set(),
    };
    for (const dir of options.dirs ?? []) {
      const resolved = resolveDirInRoot(root, dir);
      createDirs(ctx, resolved.existing, resolved.missing, ctx.defaults.system);
    }
    const written: string[] = [];
    for (const target of planTargetFiles(options.plan, home, options.lock)) {
      const path = writeTarget(ctx, target);
      if (path !== undefined) written.push(path);
    }
    journal.append({ op: 'configured' });
    step('configured');
    return { root, written, warnings: findCompetingConfig(root, home) };
  } catch (error) {
    journal.close();
    release();
    release = () => {};
    if (isFresh) rollBack(options, error);
    throw error;
  } finally {
    journal.close();
    release();
  }
}

function rollBack(options: ConfigureOptions, cause: unknown): void {
  try {
    restoreRoot({ root: options.root, stateRoot: options.stateRoot });
  } catch (error) {
    throw new StateError(
      `configure failed (${(cause as Error).message}) and rolling back failed too (${(error as Error).message}); ` +
        `run \`dib-pypi restore --root ${options.root}\` once the cause is fixed`,
      { cause },
    );
  }
}

function defaultOwnership(root: string, home: string): Context['defaults'] {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const system = { mode: 0o644, uid, gid };
  const dir = resolveDirInRoot(root, home);
  if (dir.missing.length > 0) return { system, home: system };
  const pinned = pinDirInRoot(root, dir.existing);
  if (pinned === undefined) return { system, home: system };
  try {
    const stat = fstatSync(pinned.fd);
    return { system, home: { mode: 0o644, uid: stat.uid, gid: stat.gid } };
  } finally {
    pinned.close();
  }
}

/** Pin a physical in-root directory that must exist (src/fs/pinned-dir.ts): every write below goes through it. */
function pinExisting(ctx: Context, path: string): PinnedDir {
  const dir = pinDirInRoot(ctx.root, path);
  if (dir === undefined) throw new ConfinementError(`${path} inside ${ctx.root} vanished while configure was using it`, path);
  return dir;
}

function dirRecord(ctx: Context, path: string, dir: PinnedDir): JournalRecord[] {
  if (ctx.recorded.has(path)) return [];
  ctx.recorded.add(path);
  const stat = fstatSync(dir.fd, { bigint: true });
  return [{ op: 'dir', path, atimeNs: String(stat.atimeNs), mtimeNs: String(stat.mtimeNs) }];
}

/** Create the missing directories below `parent`, each journaled before it exists, each inside the one pinned before it. */
function createDirs(ctx: Context, parent: string, missing: string[], own: FileOwnership): string {
  for (const name of missing) {
    const path = posix.join(parent, name);
    assertNotOnInnerMount(hostPathOf(ctx.root, path), ctx.innerMounts, ctx.root);
    const dir = pinExisting(ctx, parent);
    try {
      ctx.journal.append(...dirRecord(ctx, parent, dir), { op: 'mkdir', path });
      ctx.recorded.add(path);
      ctx.step(`journaled mkdir ${path}`);
      mkdirSync(dir.entry(name), 0o700);
      // Owner and mode through a descriptor of the new directory itself, never through a name.
      const fd = openSync(dir.entry(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        if (process.getuid?.() === 0) fchownSync(fd, own.uid, own.gid);
        fchmodSync(fd, 0o755);
      } finally {
        closeSync(fd);
      }
      fsyncPath(dir.path);
    } finally {
      dir.close();
    }
    ctx.step(`created ${path}`);
    parent = path;
  }
  return parent;
}

/** Read a regular file without following a symlink in its last component, checking it is the one `stat` saw. */
function readNoFollow(host: string, stat: BigIntStats, path: string): Buffer {
  const fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const now = fstatSync(fd, { bigint: true });
    if (!now.isFile() || now.dev !== stat.dev || now.ino !== stat.ino) throw new ConfinementError(`${path} changed while configure was backing it up`, path);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What is at `path` now (`host`: its name in the pinned parent), as the record that lets restore put it back. */
function recordOriginal(ctx: Context, path: string, host: string, stat: BigIntStats | undefined): JournalRecord {
  if (stat === undefined) return { op: 'absent', path };
  const times = { atimeNs: String(stat.atimeNs), mtimeNs: String(stat.mtimeNs) };
  if (stat.isFile()) {
    // restore obeys no journal recording such a mode (journal-rules.ts); a pip.conf has no use for one
    if ((stat.mode & 0o7000n) !== 0n)
      throw new ConfinementError(
        `${path} inside ${ctx.root} has mode 0${(stat.mode & 0o7777n).toString(8)} (setuid, setgid or sticky); refusing to replace it`,
        path,
      );
    const { backup, crc32 } = ctx.journal.saveBackup(readNoFollow(host, stat, path));
    ctx.step(`backed up ${path}`);
    const own = { mode: Number(stat.mode & 0o7777n), uid: Number(stat.uid), gid: Number(stat.gid) };
    return { op: 'file', path, backup, crc32, size: Number(stat.size), ...own, ...times };
  }
  if (stat.isSymbolicLink()) {
    // Kept as a link and replaced by our file: the file it points to is never read or touched.
    return { op: 'symlink', path, target: readlinkSync(host), uid: Number(stat.uid), gid: Number(stat.gid), ...times };
  }
  throw new ConfinementError(`${path} inside ${ctx.root} is not a regular file or symlink; refusing to replace it`, path);
}

/** Write one target file; returns its in-root path, or undefined when it was skipped. */
function writeTarget(ctx: Context, target: TargetFile): string | undefined {
  const resolved = resolveDirInRoot(ctx.root, posix.dirname(target.path));
  if (target.onlyIfPresent && resolved.missing.length > 0) return undefined;
  const own = ctx.defaults[target.ownedBy];
  const parent = createDirs(ctx, resolved.existing, resolved.missing, own);
  const path = posix.join(parent, posix.basename(target.path));
  assertNotOnInnerMount(hostPathOf(ctx.root, path), ctx.innerMounts, ctx.root);
  if (ctx.writtenNow.has(path)) return undefined; // two names for one file (e.g. ~/.pip -> /etc)
  // From here on, the parent is reached only through its pinned descriptor: a user who owns it
  // (a home's ~/.pip) cannot swap it for a link and make root write outside the root.
  const dir = pinExisting(ctx, parent);
  try {
    const host = dir.entry(posix.basename(target.path));
    const current = lstatSync(host, { bigint: true, throwIfNoEntry: false });
    const records: JournalRecord[] = [];
    if (!ctx.recorded.has(path)) {
      if (current === undefined && target.onlyIfPresent) return undefined;
      records.push(...dirRecord(ctx, parent, dir), recordOriginal(ctx, path, host, current));
      ctx.recorded.add(path);
    }
    const temp = tempPathFor(host);
    records.push({ op: 'temp', path: posix.join(parent, basename(temp)) });
    ctx.journal.append(...records);
    ctx.step(`journaled ${path}`);
    // A replaced regular file keeps its mode and owner (a 0600 pip.conf stays 0600).
    const keep = current?.isFile() ? { mode: Number(current.mode & 0o7777n), uid: Number(current.uid), gid: Number(current.gid) } : own;
    writeFileAtomic(host, temp, Buffer.from(target.content), keep, ctx.step);
  } finally {
    dir.close();
  }
  ctx.step(`wrote ${path}`);
  ctx.writtenNow.add(path);
  return path;
}
