// Worker thread entry of the sync's writer (sync-writer.ts): every file-system change a download brings, on one
// thread. It writes each verified download to a hidden temp file beside its target, inspects it while its bytes
// are in memory (index record, PEP 658 `.metadata` beside the target), and renames it into place once the main
// thread has journaled it.
import { parentPort } from 'node:worker_threads';
import { commitStaged, discardStaged, writeStagedTemp } from '../store/staged-files.js';
import { runInspectJob } from '../index/inspect-job.js';
import type { FileRecord } from '../store/manifest.js';

export interface StageEntry {
  id: number;
  /** Relative to the mirror. */
  path: string;
  target: string;
  /** The bytes, at `offset` in the message's arena; or else `temp`: a file written already. */
  offset?: number;
  length?: number;
  temp?: string;
  /** A distribution file to inspect (not a sidecar). */
  isInspected: boolean;
  sha256?: string;
}

export type WriterRequest =
  | { kind: 'setup'; dir: string }
  | { kind: 'stage'; entries: StageEntry[]; arena: Uint8Array }
  | { kind: 'rename'; batch: number; items: { id: number; temp: string; target: string }[] }
  | { kind: 'discard'; temps: string[] };

export type StagedItem = { id: number; temp: string; record?: FileRecord } | { id: number; error: string };

export type WriterReply =
  | { kind: 'staged'; items: StagedItem[]; bytes: number }
  | { kind: 'renamed'; batch: number; done: number[]; failed: { id: number; error: string }[] };

let dir = '';

async function stage(entry: StageEntry, arena: Uint8Array): Promise<StagedItem> {
  const data = entry.offset === undefined ? undefined : arena.subarray(entry.offset, entry.offset + (entry.length ?? 0));
  let temp: string;
  try {
    temp = entry.temp ?? writeStagedTemp(entry.target, data as Uint8Array, 'w');
  } catch (error) {
    return { id: entry.id, error: `cannot write ${entry.target}: ${(error as Error).message}` };
  }
  if (!entry.isInspected) return { id: entry.id, temp };
  try {
    // Read from the temp file (the inode the rename will name), its `.metadata` written beside the target.
    const outcome = await runInspectJob({
      dir,
      path: entry.path,
      source: temp,
      isNew: true,
      ...(data === undefined ? {} : { data }),
      ...(entry.sha256 === undefined ? {} : { sha256: entry.sha256 }),
    });
    // A broken file is left to the final re-index, which reports it with its path.
    if (outcome.record !== undefined && outcome.record.problem === undefined) return { id: entry.id, temp, record: outcome.record };
  } catch {
    // Not inspected here (an I/O error): the re-index inspects it and says what is wrong.
  }
  return { id: entry.id, temp };
}

parentPort?.on('message', async (request: WriterRequest) => {
  if (request.kind === 'setup') dir = request.dir;
  else if (request.kind === 'rename') parentPort?.postMessage({ kind: 'renamed', batch: request.batch, ...commitStaged(request.items) } satisfies WriterReply);
  else if (request.kind === 'discard') discardStaged(request.temps);
  else {
    const items: StagedItem[] = [];
    for (const entry of request.entries) items.push(await stage(entry, request.arena));
    parentPort?.postMessage({ kind: 'staged', items, bytes: request.arena.length } satisfies WriterReply);
  }
});
