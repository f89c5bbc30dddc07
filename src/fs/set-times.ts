// Set a path's timestamps to the nanosecond: restore promises identical mtimes, and a double cannot carry nanoseconds.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, lutimesSync } from 'node:fs';
import { DibPypiError } from '../errors.js';

const NS = 1_000_000_000n;

function toSeconds(ns: bigint): number {
  return Number(ns / NS) + Number(ns % NS) / 1e9;
}

/** `@SECONDS.NANOSECONDS`, the form `touch -d` takes exactly. */
export function touchDate(ns: bigint): string {
  const sign = ns < 0n ? '-' : '';
  const abs = ns < 0n ? -ns : ns;
  return `@${sign}${abs / NS}.${(abs % NS).toString().padStart(9, '0')}`;
}

let touchPath: string | undefined;

/** coreutils touch by absolute path: no PATH search on every call. */
function touchCommand(): string {
  touchPath ??= ['/usr/bin/touch', '/bin/touch'].find((p) => existsSync(p)) ?? 'touch';
  return touchPath;
}

export interface TimesEntry {
  hostPath: string;
  atimeNs: bigint;
  mtimeNs: bigint;
}

/**
 * Set each path's times: lutimes (never follows a symlink) with seconds as a double, then check;
 * where the double lost nanoseconds, coreutils `touch -h -m` (utimensat) sets the mtime exactly.
 * All such fixes run in one `sh` so a restore pays for one process spawn, not one per path.
 * Order is kept: a directory listed after its entries gets its times last.
 */
export function setTimesExact(entries: readonly TimesEntry[]): void {
  const inexact: TimesEntry[] = [];
  for (const entry of entries) {
    if (lstatSync(entry.hostPath, { bigint: true }).mtimeNs === entry.mtimeNs) continue;
    lutimesSync(entry.hostPath, toSeconds(entry.atimeNs), toSeconds(entry.mtimeNs));
    if (lstatSync(entry.hostPath, { bigint: true }).mtimeNs !== entry.mtimeNs) inexact.push(entry);
  }
  if (inexact.length === 0) return;
  const script = 't=$1; shift; while [ $# -gt 0 ]; do "$t" -h -m -d "$1" -- "$2" || exit; shift 2; done';
  const args = ['-c', script, 'sh', touchCommand(), ...inexact.flatMap((e) => [touchDate(e.mtimeNs), e.hostPath])];
  const result = spawnSync('/bin/sh', args, { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new DibPypiError(`cannot set exact mtimes with touch -h -m (exit ${result.status ?? result.signal}): ${result.stderr || result.error}`);
  }
}
