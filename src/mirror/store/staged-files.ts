// Files that enter the mirror in two steps (sync's writer thread): written whole to a hidden temp beside their
// target first, renamed into place once the caller has journaled them; a temp that cannot be renamed is removed.
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { partPathFor } from '../../upstream/part-path.js';

/** Create a temp beside `target` holding `data` (the whole of it); the temp is removed again when that fails. `tag` keeps a thread's temp names apart. */
export function writeStagedTemp(target: string, data: Uint8Array, tag: string): string {
  const temp = partPathFor(target, tag);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  return temp;
}

/** Rename each staged temp onto its target; returns the ids done and, for the others (their temps removed), why. */
export function commitStaged(items: readonly { id: number; temp: string; target: string }[]): { done: number[]; failed: { id: number; error: string }[] } {
  const done: number[] = [];
  const failed: { id: number; error: string }[] = [];
  for (const item of items) {
    try {
      renameSync(item.temp, item.target);
      done.push(item.id);
    } catch (error) {
      rmSync(item.temp, { force: true });
      failed.push({ id: item.id, error: `cannot rename into ${item.target}: ${(error as Error).message}` });
    }
  }
  return { done, failed };
}

/** Remove temps that will not be committed. */
export function discardStaged(temps: readonly string[]): void {
  for (const temp of temps) rmSync(temp, { force: true });
}
