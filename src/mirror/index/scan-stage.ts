// The scan stage: load the manifest head, stat the top level, decide what to trust, load the shards needed, and list the directories chunk by chunk.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { appendAll } from '../../append-all.js';
import { dirOfPath, emptyHead, emptyManifest, entriesByDir, loadHead, shardOf, type Manifest, type ManifestHead } from '../store/manifest.js';
import type { IndexRun } from './index-run.js';
import { ShardSet } from './index-shards.js';
import { IndexWorkers } from './inspect-pool.js';
import { seedDirs, untrustedDirs } from './plan.js';
import { emptyScan, hideRemoved, scanDir, statTopLevel, type Scan } from './scan-mirror.js';
import { pendingRemovalPaths } from '../store/remove-files.js';
import { phaseClock } from './tracer.js';
import type { IndexOptions } from './types.js';

/** Directories the scan lists before it hands their files to the threads and lets their outcomes in. */
const SCAN_CHUNK_DIRS = 32;

/** Start a run: the head, the top level, the directories to list, and the shards of those loaded. Returns the run and the shards loaded. */
export async function openRun(options: IndexOptions, isFullRequested: boolean): Promise<{ run: IndexRun; loaded: Set<number> }> {
  const dir = options.dir;
  const clock = phaseClock(options.tracer);
  const loadedHead = isFullRequested ? { head: undefined } : loadHead(dir);
  const full = isFullRequested || loadedHead.head === undefined;
  const head = loadedHead.head ?? emptyHead();
  clock('load manifest head');
  options.onProgress?.({ phase: 'scan', done: 0, total: 0 });
  const topLevel = await statTopLevel(dir, undefined, options.tracer);
  const isCold = topLevel.isCold;
  // Files a removal under way has journaled are never indexed (mirror/store/remove-files.ts): their directories are listed.
  const top = hideRemoved(topLevel.dirs, pendingRemovalPaths(dir));
  const untrusted = untrustedDirs(top, head.dirs, full, full ? new Set() : changedYankedDirs(dir, head));
  for (const t of top) if (t.hidden !== undefined) untrusted.add(t.rel);
  // The head's directory records are only read through `manifest`; `next.dirs` is the copy this run edits.
  const manifest: Manifest = { ...emptyManifest(), dirs: head.dirs };
  if (head.rootPage !== undefined) manifest.pages[''] = head.rootPage;
  const shards = new ShardSet(dir, head, manifest, full);
  const loaded = full ? loadAll(shards) : shards.ensure(seedDirs(top, head.dirs, untrusted, full));
  const run: IndexRun = {
    dir,
    options,
    full,
    head,
    manifest,
    next: { ...manifest, dirs: { ...manifest.dirs }, files: {}, sidecars: {}, pages: { ...manifest.pages } },
    shards,
    top,
    untrusted,
    present: new Set(top.map((t) => t.rel)),
    isCold,
    scan: emptyScan(),
    dirtyProjects: new Set(),
    touchedDirs: new Set(),
    isChanged: false,
    // Sized by the read probe of the files themselves (what the threads wait on), not by the stat
    // probe: warm and cold stats can lie close to its threshold on a virtual disk, and a warm full
    // index sent down the cold path by one stall runs slower with the cold path's extra threads.
    workers: new IndexWorkers(options.tracer),
    written: 0,
    removed: 0,
    pageCrcs: { ...head.pageCrcs },
    problems: [],
    clock,
  };
  return { run, loaded };
}

/** Directories with a `.yanked` file that changed since the last run (edited in place, removed). */
function changedYankedDirs(dir: string, head: ManifestHead): Set<string> {
  const dirs = new Set<string>();
  for (const [path, mtimeNs] of Object.entries(head.yanked)) {
    const stat = statSync(join(dir, path), { bigint: true, throwIfNoEntry: false });
    if (stat === undefined || String(stat.mtimeNs) !== mtimeNs) dirs.add(dirOfPath(path));
  }
  return dirs;
}

function loadAll(shards: ShardSet): Set<number> {
  const added = new Set<number>();
  for (const id of shards.all()) for (const loaded of shards.ensureId(id)) added.add(loaded);
  return added;
}

/**
 * Scan the directories of the shards in `added` into `whole`, handing each chunk of them to `onChunk` and,
 * when there is one, yielding between chunks: the threads' outcomes come back meanwhile and take the next batches.
 */
export async function scanShards(run: IndexRun, added: ReadonlySet<number>, whole: Scan, onChunk?: (part: Scan) => void): Promise<Scan> {
  const known = entriesByDir(run.manifest);
  let part = emptyScan();
  let listed = 0;
  const flush = () => {
    absorb(whole, part);
    onChunk?.(part);
    part = emptyScan();
    listed = 0;
  };
  for (const t of run.top) {
    if (!added.has(shardOf(t.rel))) continue;
    scanDir(run.dir, t, !run.untrusted.has(t.rel), run.manifest, known.get(t.rel) ?? [], run.full, true, part);
    if (onChunk !== undefined && ++listed === SCAN_CHUNK_DIRS) {
      flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  flush();
  return whole;
}

/**
 * New files may belong to projects whose other files (and page record) are in shards not loaded yet: load
 * those and scan their directories. The listed directories' shards were loaded first, so these are trusted
 * ones: their records go into the next manifest as they are.
 */
export async function scanLateShards(run: IndexRun): Promise<void> {
  const projects = new Set(Object.values(run.next.files).flatMap((r) => (r.project === undefined ? [] : [r.project])));
  const late = await scanShards(run, run.shards.ensure([], projects), emptyScan());
  absorb(run.scan, late);
  for (const [path, record] of late.files) {
    if (record === undefined) continue;
    run.next.files[path] = record;
    if (record.problem !== undefined) run.problems.push({ path, message: record.problem });
  }
  for (const [path, record] of late.sidecars) run.next.sidecars[path] = record;
}

function absorb(into: Scan, part: Scan): void {
  appendAll(into.dirs, part.dirs);
  for (const [path, record] of part.files) into.files.set(path, record);
  for (const [path, record] of part.sidecars) into.sidecars.set(path, record);
  for (const path of part.needMetadata) into.needMetadata.add(path);
}
