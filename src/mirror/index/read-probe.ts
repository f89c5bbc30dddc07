// Tell distribution files on the disk from files in the page cache, to size the indexer's thread pool.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Tracer } from './tracer.js';

/** Reading a file's first block from the page cache takes microseconds; from a disk, a seek's hundreds. */
const COLD_READ_US = 100;
/** How many files are timed. */
export const PROBE_FILES = 8;

/** Up to PROBE_FILES items spread evenly over `items` (the first included). */
export function spread<T>(items: readonly T[], count = PROBE_FILES): T[] {
  const n = Math.min(count, items.length);
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)] as T);
}

/**
 * Whether the files at `paths` come from the disk: the median time to open one and read its first
 * 4 KB exceeds COLD_READ_US. Files that cannot be read are left out; none readable: not cold. The
 * cost is a few milliseconds at most, and the blocks read are the ones the inspection reads next.
 */
export function isColdRead(paths: readonly string[], tracer?: Tracer): boolean {
  const buffer = Buffer.allocUnsafe(4096);
  const times: number[] = [];
  for (const path of paths) {
    const started = process.hrtime.bigint();
    try {
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buffer, 0, buffer.length, 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      continue;
    }
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  if (times.length === 0) return false;
  times.sort((a, b) => a - b);
  tracer?.(`read probe ${times.map((t) => Math.round(t)).join(' ')} us`);
  return (times[Math.floor(times.length / 2)] as number) > COLD_READ_US;
}
