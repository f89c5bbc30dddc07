// `mirror sync`: read the upstream's pages, plan each project, download what is missing (verified, bounded
// in parallel), write sidecars, delete only with --delete, remember the pages' validators, then re-index.
import { existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { lockRoot } from '../../fs/process-lock.js';
import { redact } from '../../redact.js';
import { SimpleIndexClient } from '../../upstream/simple-client.js';
import type { UpstreamError, UpstreamFile } from '../../upstream/simple-model.js';
import { indexMirror } from '../index/index-mirror.js';
import { loadManifest, STATE_DIR, type Manifest } from '../store/manifest.js';
import { mapLimit } from '../../async/map-limit.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import { Semaphore } from '../../async/semaphore.js';
import { repairFromJournal, SyncJournal } from './journal.js';
import { SyncWriter } from './writer.js';
import type { FileRecord } from '../store/manifest.js';
import { CHUNK_BYTES } from '../inspect/read-distribution.js';
import { emptyReason, filterProjectFiles, isProjectExcluded } from './filters.js';
import { setTimesExact } from '../../fs/set-times.js';
import { deleteDistribution, hasDistributions, hashFile, mirrorProjectDirs, readProjectState, removeProject, stageSidecars } from './local.js';
import type { SyncOptions } from './options.js';
import { planProject, sidecarChanges, type PlannedFile, type ProjectPlan } from './plan.js';
import { loadSyncState, saveSyncState, type SyncState } from './state.js';
import type { IndexProgress, IndexResult } from '../index/types.js';
import type { Tracer } from '../index/tracer.js';

export interface SyncFailure {
  project: string;
  filename?: string;
  message: string;
}

export interface SyncProgress {
  projectsDone: number;
  projectsTotal: number;
  filesDone: number;
  filesQueued: number;
  bytes: number;
}

export interface SyncEvents {
  onProgress?: (progress: SyncProgress) => void;
  /** A line worth keeping (a retry, a skipped entry). */
  onLog?: (line: string) => void;
  /** After each file renamed into place (tests kill the process here). */
  onStep?: (name: string) => void;
  /** The final re-index's progress. */
  onIndexProgress?: (progress: IndexProgress) => void;
  /** Takes a line per phase with the time it took (the re-index's too); none: nothing is timed. */
  tracer?: Tracer;
}

/** A file a dry run would download. */
export interface WouldDownload {
  project: string;
  filename: string;
  size?: number;
}

export interface SyncResult {
  projects: number;
  /** Projects whose page had not changed since the last complete sync (not even planned). */
  unchanged: number;
  downloaded: number;
  /** Wanted files already in the mirror with the right hash. */
  present: number;
  deleted: number;
  /** Whole projects removed (--delete, every project synced): no longer on the upstream's root page, or excluded. */
  deletedProjects: number;
  bytes: number;
  /** Files the filters left out, entries upstream listed but we could not use, files without a sha-2 hash. */
  skipped: number;
  failed: SyncFailure[];
  /** Projects of which no file passes the filters (or the upstream lists none): not synced, no directory made. */
  skippedProjects: { project: string; reason: string }[];
  wouldDownload?: WouldDownload[];
  index?: IndexResult;
}

interface Run {
  options: SyncOptions;
  events: SyncEvents;
  client: SimpleIndexClient;
  /** The index's manifest (its hashes spare re-hashing files already in place), loaded when a changed page first needs it. */
  manifest: () => Manifest;
  state: SyncState;
  next: SyncState;
  slots: Semaphore;
  journal: SyncJournal;
  /** Writes, inspects and journals each verified download into place, on its own thread. */
  writer: SyncWriter;
  /** Records of the files downloaded and inspected this run (the re-index takes them instead of reading the files again). */
  inspected: Map<string, FileRecord>;
  result: SyncResult;
  progress: SyncProgress;
  lastSave: number;
  /** Anything written or removed in DIR this run (else, after a finished re-index, there is nothing to index). */
  isChanged: boolean;
  /** What says the upstream's state (SyncState.rootMark), when every project was taken from the root page. */
  rootMark?: string;
  /** How many names the root page listed (when every project was taken from it). */
  rootProjectCount?: number;
}

/** The settings that change what a project's files should be: another set means pages must be read again. */
function settingsKey(options: SyncOptions): string {
  return JSON.stringify({ filters: options.filters, isDelete: options.isDelete });
}

/** A directory that is not a mirror yet (no DIR/.dib-pypi), as it was before the sync: what to give back if it fails before any download. */
interface NotAMirror {
  dir: string;
  /** Undefined when DIR did not exist. */
  entries?: Set<string>;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

function recordNotAMirror(dir: string): NotAMirror | undefined {
  if (existsSync(join(dir, STATE_DIR))) return undefined;
  const stat = lstatSync(dir, { bigint: true, throwIfNoEntry: false });
  if (stat === undefined) return { dir };
  return { dir, entries: new Set(readdirSync(dir)), atimeNs: stat.atimeNs, mtimeNs: stat.mtimeNs };
}

/** Remove what the failed sync made in DIR (or DIR itself, when it made it), and give DIR its times back. */
function restoreNotAMirror(before: NotAMirror): void {
  if (before.entries === undefined) {
    rmSync(before.dir, { recursive: true, force: true });
    return;
  }
  for (const name of readdirSync(before.dir)) if (!before.entries.has(name)) rmSync(join(before.dir, name), { recursive: true, force: true });
  setTimesExact([{ hostPath: before.dir, atimeNs: before.atimeNs as bigint, mtimeNs: before.mtimeNs as bigint }]);
}

/** Whether a run ended (by failures or an error) before anything reached the mirror. */
function failedBeforeAnyChange(run: Run | undefined, hasThrown: boolean): boolean {
  if (run === undefined) return hasThrown;
  return (hasThrown || run.result.failed.length > 0) && run.result.downloaded === 0 && run.result.deleted === 0 && !run.isChanged;
}

/** Sync `options.dir` from `options.upstream`; failures are collected (the caller exits 1), usage errors thrown. */
export async function syncMirror(options: SyncOptions, events: SyncEvents = {}): Promise<SyncResult> {
  if (existsSync(options.dir) && !statSync(options.dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(options.dir)}`, 'mirror sync');
  // A sync that fails before its first download leaves a directory that was not a mirror as it was.
  const notAMirror = options.isDryRun ? undefined : recordNotAMirror(options.dir);
  let run: Run | undefined;
  let hasThrown = true;
  // A dry run writes nothing, not even the lock.
  if (!options.isDryRun) mkdirSync(join(options.dir, STATE_DIR), { recursive: true });
  const release = options.isDryRun ? () => {} : lockRoot(join(options.dir, STATE_DIR, 'sync.lock'), options.dir, 'synced');
  const client = new SimpleIndexClient({
    url: options.upstream,
    connections: options.jobs,
    timeoutMs: options.timeoutMs,
    retry: { retries: options.retries, baseDelayMs: 250, maxDelayMs: 4_000 },
    onRetry: (error: UpstreamError, attempt: number) => events.onLog?.(`retry ${attempt}/${options.retries}: ${error.message}`),
  });
  const journal = new SyncJournal(options.dir);
  const writer = new SyncWriter(options.dir, journal);
  try {
    const state = loadSyncState(options.dir, client.upstream.display, settingsKey(options));
    if (!options.isDryRun) repairJournaled(options.dir, state, events);
    run = {
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
    };
    if (options.isDryRun) run.result.wouldDownload = [];
    const started = performance.now();
    const names = await projectNames(run);
    if (names === 'unchanged') {
      // The root's serial or pages digest unchanged since a complete, indexed run: nothing anywhere changed.
      run.result.unchanged = run.result.projects = Object.keys(state.projects).length;
      hasThrown = false;
      return run.result;
    }
    run.progress.projectsTotal = names.length;
    run.result.projects = names.length;
    events.onProgress?.(run.progress); // the phase starts: how many projects there are
    // Many projects in flight: each waits until its files are journaled and renamed (a round trip to the writer
    // thread), and downloads must not starve meanwhile (256 rather than 64: 11.4 s against 12.8 s, large mirror).
    const current = run;
    await mapLimit(names, Math.max(256, options.jobs * 32), async (name) => {
      await syncProject(current, name).catch((error: unknown) => fail(current, normalizeProjectName(name), undefined, error));
      current.progress.projectsDone++;
      events.onProgress?.(current.progress);
      saveStateNow(current, false);
    });
    if (options.isDelete && options.projects.length === 0) removeVanishedProjects(run, names);
    hasThrown = false;
    if (options.isDryRun) return run.result;
    if (notAMirror !== undefined && failedBeforeAnyChange(run, false)) return run.result; // given back as it was, below
    saveStateNow(run, true);
    events.tracer?.(`pages and downloads ${(performance.now() - started).toFixed(1)} ms`);
    await writer.finish();
    events.tracer?.(`writer drained ${(performance.now() - started).toFixed(1)} ms`);
    run.events.onStep?.('all files in place, not yet durable');
    // Everything this run wrote (files, sidecars, the writer thread's .metadata) durable before the index's manifest names it.
    await journal.finish();
    events.tracer?.(`durable (syncfs) ${(performance.now() - started).toFixed(1)} ms`);
    if (run.isChanged || !state.isIndexed) {
      run.result.index = await indexMirror({ dir: options.dir, inspected: run.inspected, onProgress: (p) => events.onIndexProgress?.(p), tracer: events.tracer });
    }
    run.next.isIndexed = true;
    if (run.rootMark !== undefined && run.result.failed.length === 0 && Object.keys(run.next.projects).length === names.length) run.next.rootMark = run.rootMark;
    else delete run.next.rootMark;
    saveSyncState(options.dir, run.next);
    return run.result;
  } finally {
    await writer.close();
    await journal.finish().catch(() => {}); // after a failure: the journal stays for the next run to check
    await client.close();
    release();
    if (notAMirror !== undefined && failedBeforeAnyChange(run, hasThrown)) restoreNotAMirror(notAMirror);
  }
}

function lazy<T>(make: () => T): () => T {
  let value: { made: T } | undefined;
  return () => (value ??= { made: make() }).made;
}

/** A previous run that did not finish: re-check what its journal lists; projects with a file lost are no longer complete. */
function repairJournaled(dir: string, state: SyncState, events: SyncEvents): void {
  const repair = repairFromJournal(dir, ({ projects }) => {
    if (projects.size === 0) return;
    for (const project of projects) delete state.projects[project];
    delete state.rootMark;
    state.isIndexed = false;
    saveSyncState(dir, state); // before the journal goes: no later run may take those projects for complete
  });
  if (repair.checked > 0) events.onLog?.(`checked ${repair.checked} files an unfinished run wrote: ${repair.removed.length === 0 ? 'all intact' : `removed ${repair.removed.length} not intact (fetched again): ${repair.removed.join(', ')}`}`);
}

/** Save the state at most every few seconds while running (a killed run then resumes past finished projects), and at the end. */
function saveStateNow(run: Run, isFinal: boolean): void {
  if (run.options.isDryRun || (!isFinal && Date.now() - run.lastSave < 5_000)) return;
  saveSyncState(run.options.dir, run.next);
  run.lastSave = Date.now();
}

function fail(run: Run, project: string, filename: string | undefined, error: unknown): void {
  const message = redact(error instanceof Error ? error.message : String(error));
  run.result.failed.push(filename === undefined ? { project, message } : { project, filename, message }); // listed by the caller at the end
}

/**
 * --delete while syncing every project: remove the mirror's project directories that are not among `names` (the
 * root page's projects the filters keep). A root page that lists no project at all removes nothing (an upstream
 * that answers with an empty index by mistake must not empty the mirror).
 */
function removeVanishedProjects(run: Run, names: readonly string[]): void {
  const wanted = new Set(names.map(normalizeProjectName));
  const gone = mirrorProjectDirs(run.options.dir).filter((p) => !wanted.has(p));
  if (gone.length === 0) return;
  if (run.rootProjectCount === 0) {
    run.events.onLog?.(`the upstream's root page lists no projects: not deleting the mirror's ${gone.length}`);
    return;
  }
  for (const project of gone) {
    try {
      if (run.options.isDryRun) {
        if (hasDistributions(run.options.dir, project)) run.events.onLog?.(`would delete project ${project} (not on the upstream, or excluded)`);
        continue;
      }
      const removed = removeProject(run.options.dir, project);
      if (removed === undefined) continue;
      run.result.deleted += removed.files;
      run.isChanged = true;
      delete run.next.projects[project];
      if (removed.left.length === 0) run.result.deletedProjects++;
      else run.events.onLog?.(`${project}: removed its files; kept the directory for what sync did not make: ${removed.left.join(', ')}`);
    } catch (error) {
      fail(run, project, undefined, error);
    }
  }
}

/** --project / --requirements names, else every project on the root page; excluded names dropped. 'unchanged': the root's serial or pages digest says nothing changed. */
async function projectNames(run: Run): Promise<string[] | 'unchanged'> {
  let names = run.options.projects;
  if (names.length === 0) {
    const root = await run.client.fetchRoot();
    const mark = root.kind !== 'page' ? undefined : root.lastSerial !== undefined ? `serial ${root.lastSerial}` : root.page.pagesDigest !== undefined ? `pages ${root.page.pagesDigest}` : undefined;
    if (mark !== undefined) {
      if (mark === run.state.rootMark && run.state.isIndexed && !run.options.isDryRun) return 'unchanged';
      run.rootMark = mark;
    }
    if (root.kind === 'missing') throw new UsageError(`no simple index at ${run.client.upstream.display} (HTTP ${root.status})`, '--upstream');
    if (root.kind !== 'page') throw new Error('unreachable: unconditional request answered 304');
    for (const problem of root.page.problems) run.events.onLog?.(`root page: ${problem}`);
    run.rootProjectCount = root.page.projects.length;
    // A name becomes a directory: only PEP 508 names (no `/`, no leading dots) are taken.
    names = root.page.projects.filter((name) => isValidProjectName(name) || void run.events.onLog?.(`root page: skipped ${JSON.stringify(name)}: not a project name`));
    run.result.skipped += root.page.projects.length - names.length;
  }
  const unique = [...new Map(names.map((n) => [normalizeProjectName(n), n])).values()];
  const kept = unique.filter((n) => !isProjectExcluded(n, run.options.filters));
  run.result.skipped += unique.length - kept.length;
  return kept;
}

async function syncProject(run: Run, name: string): Promise<void> {
  const project = normalizeProjectName(name);
  const record = run.state.projects[project];
  delete run.next.projects[project]; // until this project is complete again
  delete run.next.rootMark;
  const outcome = await run.slots.run(() => run.client.fetchProject(name, run.options.isDryRun ? undefined : record));
  if (outcome.kind === 'missing') throw new Error(`not on the upstream (HTTP ${outcome.status} for ${run.client.projectUrl(name)})`);
  if (outcome.kind === 'not-modified') {
    run.result.unchanged++;
    run.next.projects[project] = { ...record, ...outcome.validators };
    return;
  }
  for (const problem of outcome.page.problems) run.events.onLog?.(`${project}: skipped upstream entry: ${problem}`);
  const filtered = filterProjectFiles(project, outcome.page.files, run.options.filters);
  run.result.skipped += filtered.skipped.length + outcome.page.problems.length;
  const projectDir = join(run.options.dir, project);
  const isNewDir = !existsSync(projectDir);
  if (filtered.kept.length === 0 && isNewDir) {
    // Nothing to put in it: no directory, and the project is reported, not counted as synced.
    run.result.skippedProjects.push({ project, reason: emptyReason(filtered) });
    if (!run.options.isDryRun) run.next.projects[project] = { ...outcome.validators, ...(outcome.lastSerial === undefined ? {} : { lastSerial: outcome.lastSerial }) };
    return;
  }
  const local = readProjectState(run.options.dir, project, run.manifest(), run.options.isDryRun);
  const plan = planProject(local, filtered.kept, run.options.isDelete);
  run.result.skipped += plan.unverifiable.length;
  for (const file of plan.unverifiable) run.events.onLog?.(`${project}/${file.filename}: skipped, upstream gives no sha-2 hash to verify it by`);
  if (run.options.isDryRun) {
    // What the real run would report as failed, found without writing: conflicts, and files whose bytes differ.
    for (const conflict of plan.conflicts) fail(run, project, conflict.file.filename, new Error(`${conflict.reason}; not overwritten (move it away to take upstream's)`));
    await Promise.all(plan.checks.map((p) => run.slots.run(() => checkExisting(run, project, p))));
    for (const p of plan.downloads) run.result.wouldDownload?.push({ project, filename: p.file.filename, ...(p.file.size === undefined ? {} : { size: p.file.size }) });
    return;
  }
  const isComplete = await applyPlan(run, plan, local.sidecars);
  if (isNewDir) removeIfEmpty(projectDir);
  if (isComplete) run.next.projects[project] = { ...outcome.validators, ...(outcome.lastSerial === undefined ? {} : { lastSerial: outcome.lastSerial }) };
}

/** A project directory this run made and could fill with nothing (every download failed): not left behind. */
function removeIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** Check, download, write sidecars, delete. True when every wanted file is now in place. */
async function applyPlan(run: Run, plan: ProjectPlan, sidecars: ReadonlyMap<string, string>): Promise<boolean> {
  const projectDir = join(run.options.dir, plan.project);
  let isComplete = plan.conflicts.length === 0;
  for (const conflict of plan.conflicts) fail(run, plan.project, conflict.file.filename, new Error(`${conflict.reason}; not overwritten (move it away to take upstream's)`));
  const inPlace: UpstreamFile[] = plan.present.map((p) => p.file);
  run.result.present += plan.present.length;
  const checked = await Promise.all(plan.checks.map((p) => run.slots.run(() => checkExisting(run, plan.project, p))));
  plan.checks.forEach((p, i) => {
    if (checked[i]) inPlace.push(p.file);
    else isComplete = false;
  });
  run.progress.filesQueued += plan.downloads.length;
  const fetched = await Promise.all(plan.downloads.map((p) => download(run, plan.project, p)));
  plan.downloads.forEach((p, i) => {
    if (fetched[i]) inPlace.push(p.file);
    else isComplete = false;
  });
  const changes = inPlace.flatMap((file) => sidecarChanges(file, sidecars));
  const staged = stageSidecars(projectDir, changes);
  const committed = await Promise.all(
    staged.map((s) =>
      run.writer.place({ temp: s.temp, target: s.target, path: `${plan.project}/${s.name}`, algorithm: 'sha256', digest: s.sha256, isInspected: false }).then(
        () => true,
        (error: unknown) => void fail(run, plan.project, s.name, error),
      ),
    ),
  );
  if (committed.some((ok) => ok !== true)) isComplete = false;
  for (const name of plan.deletes) {
    deleteDistribution(projectDir, name);
    run.result.deleted++;
  }
  if (changes.length > 0 || plan.deletes.length > 0 || plan.downloads.length > 0 || plan.checks.length > 0) run.isChanged = true;
  return isComplete;
}

async function checkExisting(run: Run, project: string, planned: PlannedFile): Promise<boolean> {
  const digest = await hashFile(join(run.options.dir, project, planned.file.filename), planned.algorithm);
  if (digest === planned.digest) {
    run.result.present++;
    return true;
  }
  fail(run, project, planned.file.filename, new Error(`in the mirror with ${planned.algorithm} ${digest}, upstream has ${planned.digest}; not overwritten (move it away to take upstream's)`));
  return false;
}

async function download(run: Run, project: string, planned: PlannedFile): Promise<boolean> {
  const target = join(run.options.dir, project, planned.file.filename);
  try {
    const size = planned.file.size === undefined ? {} : { size: planned.file.size };
    const path = `${project}/${planned.file.filename}`;
    // The slot is held while the bytes come in, not while the writer writes and journals them. A file that fits
    // in one read comes back in memory (the writer thread writes and inspects it), a bigger one as a temp file.
    // Room is asked for inside the slot: at most --jobs downloads add bytes after each check.
    const { bytes, temp, data } = await run.slots.run(async () => {
      await run.writer.room();
      return run.client.download({ url: planned.file.url, target, algorithm: planned.algorithm, digest: planned.digest, ...size, commit: 'memory', memoryUpTo: CHUNK_BYTES - 1 });
    });
    const record = await run.writer.place({ path, target, algorithm: planned.algorithm, digest: planned.digest, ...(data === undefined ? { temp: temp as string } : { data }), isInspected: true });
    if (record !== undefined) run.inspected.set(path, record);
    run.result.downloaded++;
    run.result.bytes += bytes;
    run.progress.bytes += bytes;
    run.events.onStep?.(`downloaded ${project}/${planned.file.filename}`);
    return true;
  } catch (error) {
    fail(run, project, planned.file.filename, error);
    return false;
  } finally {
    run.progress.filesDone++;
    run.events.onProgress?.(run.progress);
  }
}
