// `mirror index`: make a directory of distributions a PEP 503/691/658 index, redoing only what changed since the last run.
// A run is a sequence of stages: scan (scan-stage.ts), inspect (inspect-stage.ts), write pages (write-pages.ts),
// commit the manifest (commit-manifest.ts); what each does is decided by the pure plan (plan.ts, plan-commit.ts).
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { lockMirror } from '../store/lock.js';
import { commitManifest, recordDirectories } from './commit-manifest.js';
import { UnreadableShardError } from './index-shards.js';
import { scanAndInspect } from './inspect-stage.js';
import { openRun, scanLateShards } from './scan-stage.js';
import type { IndexOptions, IndexResult } from './types.js';
import { removeGoneFiles, writePages } from './write-pages.js';

/** Index `options.dir`. Broken files are reported in `problems` and skipped; everything else is indexed. */
export async function indexMirror(options: IndexOptions): Promise<IndexResult> {
  const dir = options.dir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(dir)}`, 'mirror index');
  const release = lockMirror(dir, 'index');
  try {
    try {
      return await indexRun(options, options.full === true);
    } catch (error) {
      if (!(error instanceof UnreadableShardError)) throw error;
      return await indexRun(options, true); // a damaged shard: it is only a cache, index everything
    }
  } finally {
    release();
  }
}

async function indexRun(options: IndexOptions, isFullRequested: boolean): Promise<IndexResult> {
  const { run, loaded } = await openRun(options, isFullRequested);
  try {
    const inspected = await scanAndInspect(run, loaded);
    await scanLateShards(run);
    run.clock(`inspect (${inspected} files, ${run.workers.started} threads)`);
    removeGoneFiles(run);
    const root = await writePages(run);
    run.clock('pages');
    options.beforeRecord?.();
    const recorded = await recordDirectories(run);
    run.clock('record directories, serialize shards');
    await run.workers.close();
    const files = await commitManifest(run, root, recorded, inspected);
    return { projects: root.projects.length, files, inspected, written: run.written, removed: run.removed, problems: run.problems };
  } finally {
    await run.workers.close();
  }
}
