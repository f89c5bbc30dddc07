// The commit stage: record the directories as this run leaves them, then write the manifest that vouches for everything the run wrote, durable after it.
import { serializeManifest, serializeShards, writeManifest, type SerializedManifest } from '../store/manifest.js';
import { syncFileSystem } from '../../fs/sync-file-system.js';
import type { IndexRun } from './index-run.js';
import { applyRecords, mustWriteManifest, nextHead, recordJobs } from './plan-commit.js';
import type { RootPlan } from './plan.js';

/** What recordDirectories leaves for commitManifest. */
export interface Recorded {
  /** The syncfs of the mirror, under way (undefined: nothing was written). */
  synced: Promise<boolean> | undefined;
  shardBytes: SerializedManifest['shards'];
}

/**
 * Record every directory the run listed or wrote into (on the threads) while the main thread serializes the
 * shards it loaded. Everything this run writes before its manifest is written by now: the syncfs that makes
 * it durable (a child process) runs meanwhile. Needs the workers open.
 */
export async function recordDirectories(run: IndexRun): Promise<Recorded> {
  const synced = run.written > 0 ? syncFileSystem(run.dir) : undefined;
  const recorded = run.workers.recordDirectories(recordJobs(run.dir, run.scan.dirs, run.touchedDirs));
  const shardBytes = serializeShards(run.dir, run.next, run.shards.loaded);
  if (applyRecords(run.next.dirs, await recorded, run.present, run.touchedDirs)) run.isChanged = true;
  return { synced, shardBytes };
}

/** Write the manifest when anything changed (else the one on disk still holds). Returns the number of good files it counts. */
export async function commitManifest(run: IndexRun, root: RootPlan, recorded: Recorded, inspected: number): Promise<number> {
  const head = nextHead({
    head: run.head,
    before: run.manifest,
    next: run.next,
    isLoaded: (rel) => run.shards.has(rel),
    projects: root.projects,
    full: run.full,
    pageCrcs: root.pageCrcs,
    pagesDigest: root.digest,
  });
  const facts = { full: run.full, isChanged: run.isChanged, inspected, written: run.written, removed: run.removed, scannedFiles: run.scan.files.size };
  if (mustWriteManifest(facts, run.manifest, run.next, run.head, head)) {
    // The pages and `.metadata` files durable before the manifest that vouches for them: a power loss
    // after it must not leave an empty page or metadata file that the next run, trusting its record, keeps.
    // (Where `sync -f` cannot run, the run goes on as before, without that guarantee.)
    const serialized = serializeManifest(run.dir, head, recorded.shardBytes);
    if (recorded.synced !== undefined) {
      run.clock('manifest serialized');
      await recorded.synced;
      run.clock('syncfs (the rest of it)');
    }
    await writeManifest(serialized);
  }
  run.clock('manifest');
  return head.goodFiles;
}
