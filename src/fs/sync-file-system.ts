// Make everything written to one file system durable at once: coreutils `sync -f DIR` (syncfs(2)), off the
// main thread. One call instead of an fsync per file when a run has written thousands of small files.
import { execFile } from 'node:child_process';

/** syncfs of the file system holding `dir`; false when it could not be run (then the caller fsyncs file by file, or accepts the risk). */
export function syncFileSystem(dir: string): Promise<boolean> {
  return new Promise((resolve) => execFile('sync', ['-f', dir], { timeout: 600_000 }, (error) => resolve(error === null)));
}
