// Give a root back exactly what configure found: replay the journal backwards, then drop it. Idempotent.
import { closeSync, constants, fstatSync, lchownSync, lstatSync, openSync, readFileSync, readlinkSync, rmdirSync, unlinkSync, type BigIntStats } from 'node:fs';
import { basename, posix } from 'node:path';
import { StateError } from '../errors.js';
import { fsyncPath, tempPathFor, writeFileAtomic, writeSymlinkAtomic } from '../fs/atomic-write.js';
import { pinDirInRoot, splitParent, type PinnedDir } from '../fs/pinned-dir.js';
import { hostPathOf } from '../fs/resolve-in-root.js';
import { setTimesExact, type TimesEntry } from '../fs/set-times.js';
import { isMounted, unmountRecorded } from './mounts-in-root.js';
import { describeProcesses, mountsHeldBy, processesInRoot, stopProcessesInRoot, type RootProcess } from './root-processes.js';
import type { StepHook } from './step-hook.js';
import { openJournal, realRootOf } from './root-journal.js';
import type { JournalRecord } from './journal-format.js';
import type { JournalFile } from './journal-file.js';

export interface RestoreOptions {
  root: string;
  stateRoot: string;
  onStep?: StepHook;
  /** Stop processes still running inside the root (SIGTERM, then SIGKILL) before restoring it. */
  killProcesses?: boolean;
}

/** Processes inside the root hold a mount restore must unmount: nothing was changed, the journal stays. */
export class ProcessesInRootError extends StateError {
  readonly root: string;
  readonly processes: RootProcess[];
  readonly mounts: string[];
  constructor(root: string, processes: RootProcess[], mounts: string[]) {
    super(
      `cannot restore ${root}: ${processes.length === 1 ? 'process' : 'processes'} ${describeProcesses(processes)} still ` +
        `${processes.length === 1 ? 'runs' : 'run'} inside it and ${processes.length === 1 ? 'holds' : 'hold'} ${mounts.join(', ')}; nothing was changed`,
    );
    this.root = root;
    this.processes = processes;
    this.mounts = mounts;
  }
}

export interface RestoreResult {
  root: string;
  /** False when there was nothing to restore (a no-op success). */
  hadJournal: boolean;
  /** In-root paths put back, removed or re-timed. */
  restored: string[];
  warnings: string[];
  /** Processes found running inside the root (and left running, unless in `stopped`). */
  processes: RootProcess[];
  /** Processes stopped because `killProcesses` was set. */
  stopped: RootProcess[];
}

interface Context {
  root: string;
  journal: JournalFile;
  step: StepHook;
  restored: string[];
  warnings: string[];
  /** Times to put back once every entry is in place, in replay order (children before parents). */
  times: TimesEntry[];
  /** Directories pinned for this restore (their /proc/PID/fd paths stay valid until the end: the times use them). */
  pins: PinnedDir[];
}

/**
 * The entry at a physical in-root path, reached through its pinned parent directory (src/fs/pinned-dir.ts):
 * `host` is a /proc/PID/fd/N/<name> path that cannot be redirected out of the root. Undefined when
 * the parent directory is gone; throws when a directory on the way is now a symlink.
 */
function pinnedEntry(ctx: Context, path: string): { host: string; dir: PinnedDir; stat: BigIntStats | undefined } | undefined {
  const { parent, name } = splitParent(path);
  const dir = pinDirInRoot(ctx.root, parent);
  if (dir === undefined) return undefined;
  ctx.pins.push(dir);
  const host = dir.entry(name);
  return { host, dir, stat: lstatSync(host, { bigint: true, throwIfNoEntry: false }) };
}

/** Read a regular file without following a symlink in its last component; undefined when it is not the file `stat` saw. */
function readNoFollow(host: string, stat: BigIntStats): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const now = fstatSync(fd, { bigint: true });
    if (!now.isFile() || now.dev !== stat.dev || now.ino !== stat.ino) return undefined;
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Restore `root` from its journal; a second call (or a call after a crash mid-restore) finishes the job. */
export function restoreRoot(options: RestoreOptions): RestoreResult {
  const root = realRootOf(options.root);
  const step = options.onStep ?? (() => {});
  const { journal, release } = openJournal(root, options.stateRoot);
  const ctx: Context = { root, journal, step, restored: [], warnings: [], times: [], pins: [] };
  try {
    const { processes, stopped } = settleProcesses(root, journal, options.killProcesses === true);
    if (!journal.exists) {
      journal.discard(); // a restore killed after removing the journal leaves its empty directory
      return { root, hadJournal: false, restored: [], warnings: [], processes, stopped };
    }
    if (journal.records.at(-1)?.op !== 'restored') {
      // Mounts first, all of them, before any file is touched: a mount that cannot go then fails
      // the restore with the root's files as configure left them and the journal kept for a retry.
      const backwards = [...journal.records].reverse();
      for (const record of backwards) if (record.op === 'mount') restoreRecord(ctx, record);
      for (const record of backwards) if (record.op !== 'mount') restoreRecord(ctx, record);
      setTimesExact(ctx.times);
      step('put back times');
      journal.append({ op: 'restored' });
      step('replayed');
    }
    journal.discard(step);
    return { root, hadJournal: true, restored: [...new Set(ctx.restored)], warnings: ctx.warnings, processes, stopped };
  } finally {
    for (const pin of ctx.pins) pin.close();
    journal.close();
    release();
  }
}

/**
 * Processes still running inside the root: stopped when asked; otherwise, if one of them holds a
 * mount the journal will unmount, the restore is refused before anything changes (unmounting it
 * lazily would leave the process inside a root we call restored, still reaching the mirror).
 * Processes that hold no such mount are reported and left alone.
 */
function settleProcesses(root: string, journal: JournalFile, kill: boolean): { processes: RootProcess[]; stopped: RootProcess[] } {
  const processes = processesInRoot(root);
  if (processes.length === 0) return { processes, stopped: [] };
  if (kill) return { processes, stopped: stopProcessesInRoot(root) };
  const pending = journal.records.at(-1)?.op === 'restored' ? [] : journal.records;
  const mounted = pending.flatMap((r) => (r.op === 'mount' && isMounted(hostPathOf(root, r.path)) ? [hostPathOf(root, r.path)] : []));
  const holders = processes.map((p) => ({ p, held: mountsHeldBy(p.pid, mounted) })).filter((h) => h.held.length > 0);
  if (holders.length > 0) {
    const held = [...new Set(holders.flatMap((h) => h.held))].map((m) => m.slice(root.length) || '/');
    throw new ProcessesInRootError(
      root,
      holders.map((h) => h.p),
      held,
    );
  }
  return { processes, stopped: [] };
}

function removeEntry(ctx: Context, path: string): void {
  const entry = pinnedEntry(ctx, path);
  if (entry?.stat === undefined) return;
  if (entry.stat.isDirectory()) {
    ctx.warnings.push(`kept ${path}: dib-pypi wrote a file there, but it is now a directory`);
    return;
  }
  unlinkSync(entry.host);
  fsyncPath(entry.dir.path);
  ctx.restored.push(path);
}

function restoreRecord(ctx: Context, record: JournalRecord): void {
  switch (record.op) {
    case 'begin':
    case 'home':
    case 'configured':
    case 'restored':
      return;
    case 'temp':
    case 'absent':
      removeEntry(ctx, record.path);
      break;
    case 'file':
      restoreFile(ctx, record);
      break;
    case 'symlink':
      restoreSymlink(ctx, record);
      break;
    case 'mkdir':
      removeDir(ctx, record.path);
      break;
    case 'mount': {
      // Never through a symlink: the recorded path is physical, and its parent is pinned (a swapped directory is refused).
      if (unmountRecorded(ctx.root, record.path)) ctx.restored.push(`unmounted ${record.path}`);
      break;
    }
    case 'dir': {
      const dir = pinDirInRoot(ctx.root, record.path);
      if (dir === undefined) break;
      ctx.pins.push(dir);
      ctx.times.push(timesOf(`${dir.path}/.`, record));
      break;
    }
  }
  ctx.step(`restored ${record.op} ${record.path}`);
}

function restoreFile(ctx: Context, record: Extract<JournalRecord, { op: 'file' }>): void {
  const entry = pinnedEntry(ctx, record.path);
  if (entry === undefined) throw new StateError(`cannot restore ${record.path} inside ${ctx.root}: its directory is gone`);
  const { host, stat } = entry;
  if (stat?.isDirectory()) throw new StateError(`cannot restore ${record.path} inside ${ctx.root}: it is now a directory`);
  const data = ctx.journal.readBackup(record.backup, record.size, record.crc32);
  const isSame =
    stat?.isFile() &&
    Number(stat.mode & 0o7777n) === record.mode &&
    Number(stat.uid) === record.uid &&
    Number(stat.gid) === record.gid &&
    Number(stat.size) === record.size &&
    readNoFollow(host, stat)?.equals(data) === true;
  if (!isSame) {
    const temp = tempPathFor(host);
    ctx.journal.append({ op: 'temp', path: posix.join(posix.dirname(record.path), basename(temp)) });
    writeFileAtomic(host, temp, data, { mode: record.mode, uid: record.uid, gid: record.gid });
    ctx.step(`put back ${record.path}`);
  }
  ctx.times.push(timesOf(host, record));
  ctx.restored.push(record.path);
}

function timesOf(hostPath: string, record: { atimeNs: string; mtimeNs: string }): TimesEntry {
  return { hostPath, atimeNs: BigInt(record.atimeNs), mtimeNs: BigInt(record.mtimeNs) };
}

function restoreSymlink(ctx: Context, record: Extract<JournalRecord, { op: 'symlink' }>): void {
  const entry = pinnedEntry(ctx, record.path);
  if (entry === undefined) throw new StateError(`cannot restore the symlink ${record.path} inside ${ctx.root}: its directory is gone`);
  const { host, stat } = entry;
  if (stat?.isDirectory()) throw new StateError(`cannot restore the symlink ${record.path} inside ${ctx.root}: it is now a directory`);
  if (!stat?.isSymbolicLink() || readlinkSync(host) !== record.target) {
    const temp = tempPathFor(host);
    ctx.journal.append({ op: 'temp', path: posix.join(posix.dirname(record.path), basename(temp)) });
    writeSymlinkAtomic(host, temp, record.target, record.uid, record.gid);
    ctx.step(`put back symlink ${record.path}`);
  } else if (Number(stat.uid) !== record.uid || Number(stat.gid) !== record.gid) {
    lchownSync(host, record.uid, record.gid);
  }
  ctx.times.push(timesOf(host, record));
  ctx.restored.push(record.path);
}

function removeDir(ctx: Context, path: string): void {
  const entry = pinnedEntry(ctx, path);
  if (entry?.stat === undefined) return;
  if (!entry.stat.isDirectory()) {
    ctx.warnings.push(`kept ${path}: dib-pypi created a directory there, but it is no longer one`);
    return;
  }
  try {
    rmdirSync(entry.host);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw error;
    ctx.warnings.push(`kept ${path}: dib-pypi created it, but it now holds files dib-pypi did not write`);
    return;
  }
  fsyncPath(entry.dir.path);
  ctx.restored.push(path);
}
