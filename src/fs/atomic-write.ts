// The one helper that writes files into a root: temp beside the target, fsync, owner and mode, rename, fsync the directory.
import { closeSync, fchmodSync, fchownSync, fsync, fsyncSync, openSync, renameSync, rmSync, symlinkSync, lchownSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A fresh temp name beside `target`: `.name.tmp-<pid>-<n>`. The caller journals it before use. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${++counter}`);
}

export interface FileOwnership {
  mode: number;
  uid: number;
  gid: number;
}

/** fsync a file, or a directory so a rename or unlink in it survives a crash. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** chown only where it changes something, so a non-root user can write files of their own. */
function ownerNeedsChange(uid: number, gid: number): boolean {
  return process.getuid?.() === 0 || uid !== process.getuid?.() || gid !== process.getgid?.();
}

/** Write all of `data` to a fresh temp file's descriptor and give it `own`'s owner and mode. */
function fillTemp(fd: number, data: Uint8Array, own: FileOwnership): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset);
  if (ownerNeedsChange(own.uid, own.gid)) fchownSync(fd, own.uid, own.gid);
  fchmodSync(fd, own.mode & 0o7777);
}

/** Write `data` to `temp` (which must not exist), give it `own`, then rename it over `target`. */
export function writeFileAtomic(target: string, temp: string, data: Uint8Array, own: FileOwnership, onStep?: (name: string) => void): void {
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      fillTemp(fd, data, own);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    onStep?.(`wrote temp ${temp}`);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncPath(dirname(target));
}

/**
 * writeFileAtomic for several files at once: every temp written, then all fsynced together on the
 * thread pool (the file system commits them in one journal transaction instead of one each), then
 * renamed, then each directory fsynced once. When it returns, every target holds its new bytes durably.
 */
export async function writeFilesAtomic(items: { target: string; data: Uint8Array }[], own: FileOwnership): Promise<void> {
  const open: { fd: number; temp: string; target: string }[] = [];
  try {
    for (const { target, data } of items) {
      const temp = tempPathFor(target);
      const fd = openSync(temp, 'wx', 0o600);
      open.push({ fd, temp, target });
      fillTemp(fd, data, own);
    }
    await Promise.all(open.map(({ fd }) => fsyncAsync(fd)));
  } catch (error) {
    for (const { fd, temp } of open) {
      closeSync(fd);
      rmSync(temp, { force: true });
    }
    throw error;
  }
  for (const { fd } of open) closeSync(fd);
  for (const { temp, target } of open) renameSync(temp, target);
  for (const dir of new Set(open.map(({ target }) => dirname(target)))) fsyncPath(dir);
}

const fsyncAsync = promisify(fsync);

/** Replace `target` with a symlink to `linkTarget`, atomically, owned by uid/gid. */
export function writeSymlinkAtomic(target: string, temp: string, linkTarget: string, uid: number, gid: number): void {
  try {
    symlinkSync(linkTarget, temp);
    if (ownerNeedsChange(uid, gid)) lchownSync(temp, uid, gid);
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncPath(dirname(target));
}
