// Temp names of downloads, in a module of their own: the sync's writer thread needs them and
// nothing else of the HTTP side (importing download-file.ts would bundle undici into that thread).
import { basename, dirname, join } from 'node:path';

/** Temp files of downloads: `.<name>.part-<pid>-<n>`, hidden from the index, the scanner and web servers. */
export const PART_MARK = '.part-';
let counter = 0;

/** A fresh temp name beside `target`; `tag` keeps the names of a worker thread apart from the main thread's. */
export function partPathFor(target: string, tag = ''): string {
  return join(dirname(target), `.${basename(target)}${PART_MARK}${process.pid}-${tag}${++counter}`);
}
