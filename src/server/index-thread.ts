// Worker thread entry: the serving process's re-index after an upload, a download or a change. Scanning
// the mirror, writing its pages and committing the manifest are synchronous file work that would
// otherwise hold the event loop, and every request waiting on it, for the length of the run.
import { parentPort, workerData } from 'node:worker_threads';
import { StateError } from '../errors.js';
import { indexMirror } from '../mirror/index/index-mirror.js';
import type { IndexResult } from '../mirror/index/types.js';

export type IndexThreadReply = { id: number; result: IndexResult } | { id: number; error: string; isState: boolean };

const { dir } = workerData as { dir: string };

parentPort?.on('message', (id: number) => {
  indexMirror({ dir }).then(
    (result) => parentPort?.postMessage({ id, result } satisfies IndexThreadReply),
    (error: unknown) =>
      parentPort?.postMessage({
        id,
        error: error instanceof Error ? error.message : String(error),
        isState: error instanceof StateError,
      } satisfies IndexThreadReply),
  );
});
