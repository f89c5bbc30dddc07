// `mirror sync`: read the upstream's pages, plan each project, download what is missing (verified, bounded
// in parallel), write sidecars, delete only with --delete, remember the pages' validators, then re-index.
// A run is a sequence of stages: the projects to take (project-names.ts), each project fetched, planned and
// applied (sync-project.ts, apply-plan.ts, download.ts), vanished projects removed (remove-projects.ts),
// the writes made durable, the mirror re-indexed, the state kept for the next run (resume.ts).
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { lockMirror } from '../store/lock.js';
import { mapLimit } from '../../async/map-limit.js';
import { Semaphore } from '../../async/semaphore.js';
import { normalizeProjectName } from '../../pypi/project-name.js';
import { SimpleIndexClient } from '../../upstream/simple-client.js';
import type { UpstreamError } from '../../upstream/simple-model.js';
import { indexMirror } from '../index/index-mirror.js';
import { loadManifest } from '../store/manifest.js';
import { SyncJournal } from './journal.js';
import { failedBeforeAnyChange, recordNotAMirror, restoreNotAMirror } from './not-a-mirror.js';
import type { SyncOptions } from './options.js';
import { projectNames } from './project-names.js';
import { removeVanishedProjects } from './remove-projects.js';
import { repairJournaled, saveFinalState, saveStateNow } from './resume.js';
import { loadSyncState } from './state.js';
import { fail, lazy, settingsKey, type SyncRun } from './sync-run.js';
import { syncProject } from './sync-project.js';
import type { SyncEvents, SyncResult } from './types.js';
import { SyncWriter } from './writer.js';

export type { SyncEvents, SyncFailure, SyncProgress, SyncResult, WouldDownload } from './types.js';

/** Sync `options.dir` from `options.upstream`; failures are collected (the caller exits 1), usage errors thrown. */
export async function syncMirror(options: SyncOptions, events: SyncEvents = {}): Promise<SyncResult> {
  if (existsSync(options.dir) && !statSync(options.dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(options.dir)}`, 'mirror sync');
  // A sync that fails before its first download leaves a directory that was not a mirror as it was.
  const notAMirror = options.isDryRun ? undefined : recordNotAMirror(options.dir);
  let run: SyncRun | undefined;
  let hasThrown = true;
  // A dry run writes nothing, not even the lock.
  const release = options.isDryRun ? () => {} : lockMirror(options.dir, 'sync');
  const client = upstreamClient(options, events);
  const journal = new SyncJournal(options.dir);
  const writer = new SyncWriter(options.dir, journal);
  try {
    run = openRun(options, events, client, journal, writer);
    const names = await projectNames(run);
    if (names === 'unchanged') {
      // The root's serial or pages digest unchanged since a complete, indexed run: nothing anywhere changed.
      run.result.unchanged = run.result.projects = Object.keys(run.state.projects).length;
      hasThrown = false;
      return run.result;
    }
    await syncProjects(run, names);
    if (options.isDelete && options.projects.length === 0) removeVanishedProjects(run, names);
    hasThrown = false;
    if (options.isDryRun) return run.result;
    if (notAMirror !== undefined && failedBeforeAnyChange(run, false)) return run.result; // given back as it was, below
    await makeDurable(run);
    if (run.isChanged || !run.state.isIndexed)
      run.result.index = await indexMirror({
        dir: options.dir,
        inspected: run.inspected,
        onProgress: (p) => events.onIndexProgress?.(p),
        tracer: events.tracer,
      });
    saveFinalState(run, names.length);
    return run.result;
  } finally {
    await writer.close();
    await journal.finish().catch(() => {}); // after a failure: the journal stays for the next run to check
    await client.close();
    release();
    if (notAMirror !== undefined && failedBeforeAnyChange(run, hasThrown)) restoreNotAMirror(notAMirror);
  }
}

function upstreamClient(options: SyncOptions, events: SyncEvents): SimpleIndexClient {
  return new SimpleIndexClient({
    url: options.upstream,
    connections: options.jobs,
    timeoutMs: options.timeoutMs,
    retry: { retries: options.retries, baseDelayMs: 250, maxDelayMs: 4_000 },
    onRetry: (error: UpstreamError, attempt: number) => events.onLog?.(`retry ${attempt}/${options.retries}: ${error.message}`),
  });
}

/** The run's state: the last run's records (after checking what an unfinished one left in its journal). */
function openRun(options: SyncOptions, events: SyncEvents, client: SimpleIndexClient, journal: SyncJournal, writer: SyncWriter): SyncRun {
  const state = loadSyncState(options.dir, client.upstream.display, settingsKey(options));
  if (!options.isDryRun) repairJournaled(options.dir, state, events);
  const run: SyncRun = {
    options,
    events,
    client,
    manifest: lazy(() => loadManifest(options.dir).manifest),
    state,
    next: { ...state, projects: { ...state.projects }, isIndexed: false },
    slots: new Semaphore(options.jobs),
    journal,
    writer,
    inspected: new Map(),
    result: { projects: 0, unchanged: 0, downloaded: 0, present: 0, deleted: 0, deletedProjects: 0, bytes: 0, skipped: 0, failed: [], skippedProjects: [] },
    progress: { projectsDone: 0, projectsTotal: 0, filesDone: 0, filesQueued: 0, bytes: 0 },
    lastSave: Date.now(),
    isChanged: false,
    started: performance.now(),
  };
  if (options.isDryRun) run.result.wouldDownload = [];
  return run;
}

/** Every project, many at once; the state saved every few seconds as they finish. */
async function syncProjects(run: SyncRun, names: string[]): Promise<void> {
  run.progress.projectsTotal = names.length;
  run.result.projects = names.length;
  run.events.onProgress?.(run.progress); // the phase starts: how many projects there are
  // Many projects in flight: each waits until its files are journaled and renamed (a round trip to the
  // writer thread), and downloads must not starve meanwhile.
  await mapLimit(names, Math.max(256, run.options.jobs * 32), async (name) => {
    await syncProject(run, name).catch((error: unknown) => fail(run, normalizeProjectName(name), undefined, error));
    run.progress.projectsDone++;
    run.events.onProgress?.(run.progress);
    saveStateNow(run, false);
  });
}

/** Everything this run wrote (files, sidecars, the writer thread's .metadata) in place and durable before the index's manifest names it. */
async function makeDurable(run: SyncRun): Promise<void> {
  const trace = (phase: string) => run.events.tracer?.(`${phase} ${(performance.now() - run.started).toFixed(1)} ms`);
  saveStateNow(run, true);
  trace('pages and downloads');
  await run.writer.finish();
  trace('writer drained');
  run.events.onStep?.('all files in place, not yet durable');
  await run.journal.finish();
  trace('durable (syncfs)');
}
