// Set a path's timestamps to the nanosecond: restore promises identical mtimes, and a double cannot carry nanoseconds.
import { spawnSync } from 'node:child_process';
import { lstatSync, lutimesSync } from 'node:fs';
import { DibPypiError } from '../errors.js';

const NS = 1_000_000_000n;

function toSeconds(ns: bigint): number {
  return Number(ns / NS) + Number(ns % NS) / 1e9;
}

/** `@SECONDS.NANOSECONDS`, the form `touch -d` takes exactly. */
export function touchDate(ns: bigint): string {
  return `@${ns / NS}.${(ns % NS).toString().padStart(9, '0')}`;
}

/**
 * lutimes (never follows a symlink) with seconds as a double, then check; where the double lost
 * nanoseconds, let coreutils `touch -h` (utimensat) set the mtime exactly.
 */
export function setTimesExact(hostPath: string, atimeNs: bigint, mtimeNs: bigint): void {
  lutimesSync(hostPath, toSeconds(atimeNs), toSeconds(mtimeNs));
  if (lstatSync(hostPath, { bigint: true }).mtimeNs === mtimeNs) return;
  const result = spawnSync('touch', ['-h', '-m', '-d', touchDate(mtimeNs), '--', hostPath], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new DibPypiError(`cannot set the mtime of ${hostPath} (touch -h -m exited ${result.status ?? result.signal}): ${result.stderr ?? result.error}`);
  }
}
