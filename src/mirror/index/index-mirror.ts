// `mirror index`: make a directory of distributions a PEP 503/691/658 index, redoing only what changed since the last run.
import { createHash } from 'node:crypto';
import { existsSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { posix, join } from 'node:path';
import { UsageError } from '../../errors.js';
import { lockMirror } from '../store/lock.js';
import { syncFileSystem } from '../../fs/sync-file-system.js';
import { IndexWorkers } from './inspect-pool.js';
import type { InspectOutcome } from './inspect-job.js';
import { writePageIfChanged, type PageJob } from './page-writer.js';
import { dirOfPath, emptyHead, emptyManifest, entriesByDir, loadHead, MANIFEST_VERSION, serializeManifest, serializeShards, shardOf, writeManifest, type FileRecord, type Manifest, type ManifestHead } from '../store/manifest.js';
import { ShardSet, UnreadableShardError } from './index-shards.js';
import { sameList, type RecordJob, type RecordOutcome } from './record-dirs.js';
import { buildProjectPage } from './build-pages.js';
import { renderRootHtml, renderRootJson } from '../../pypi/render-pages.js';
import { emptyScan, scanDir, SIDECARS, statTopLevel, type Scan, type TopDir } from './scan-mirror.js';
import type { IndexOptions, IndexProblem, IndexResult } from './types.js';
import { appendAll } from '../../append-all.js';

/** Directories the scan lists before it hands their files to the threads and lets their outcomes in. */
const SCAN_CHUNK_DIRS = 32;

interface Run {
  dir: string;
  manifest: Manifest;
  next: Manifest;
  scan: Scan;
  dirtyProjects: Set<string>;
  /** Directories this run wrote into or removed from (relative). */
  touchedDirs: Set<string>;
  /** The top level (`''`) and every project directory there is now. */
  present: Set<string>;
  /** A directory record changed (the manifest must be saved). */
  isChanged: boolean;
  workers: IndexWorkers;
  written: number;
  removed: number;
  /** Per project, the CRCs of its pages now (ManifestHead.pageCrcs). */
  pageCrcs: Record<string, string>;
  problems: IndexProblem[];
  options: IndexOptions;
}

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

/** Directories with a `.yanked` file that changed since the last run (edited in place, removed). */
function changedYankedDirs(dir: string, head: ManifestHead): Set<string> {
  const dirs = new Set<string>();
  for (const [path, mtimeNs] of Object.entries(head.yanked)) {
    const stat = statSync(join(dir, path), { bigint: true, throwIfNoEntry: false });
    if (stat === undefined || String(stat.mtimeNs) !== mtimeNs) dirs.add(dirOfPath(path));
  }
  return dirs;
}

async function indexRun(options: IndexOptions, isFullRequested: boolean): Promise<IndexResult> {
  const dir = options.dir;
  const timer = phaseTimer(process.env.DIB_PYPI_DEBUG_TIMING === '1');
  const loadedHead = isFullRequested ? { head: undefined } : loadHead(dir);
  const full = isFullRequested || loadedHead.head === undefined;
  const head = loadedHead.head ?? emptyHead();
  timer('load manifest head');
  options.onProgress?.({ phase: 'scan', done: 0, total: 0 });
  const { dirs: top, isCold } = await statTopLevel(dir);
  const yankedDirs = full ? new Set<string>() : changedYankedDirs(dir, head);
  // Decided once per directory: this runs for every project directory on every re-index.
  const untrusted = new Set<string>();
  for (const t of top) if (full || head.dirs[t.rel]?.mtime !== t.mtime || t.mtime === '0' || yankedDirs.has(t.rel)) untrusted.add(t.rel);
  const isTrusted = (t: TopDir) => !untrusted.has(t.rel);
  // The head's directory records are only read through `manifest`; `next.dirs` is the copy this run edits.
  const manifest: Manifest = { ...emptyManifest(), dirs: head.dirs };
  if (head.rootPage !== undefined) manifest.pages[''] = head.rootPage;
  const shards = new ShardSet(dir, head, manifest, full);
  const onTop = new Set(top.map((t) => t.rel));
  const seeds = full ? top.map((t) => t.rel) : [...untrusted, ...Object.keys(head.dirs).filter((rel) => !onTop.has(rel))];
  const shardIds = top.map((t) => shardOf(t.rel));
  /** Scan the directories of the shards in `added` into `whole`, handing each chunk of them to `onChunk` and yielding between chunks when asked. */
  const scanNewlyLoaded = async (added: Set<number>, whole: Scan, onChunk?: (part: Scan) => void): Promise<Scan> => {
    const known = entriesByDir(manifest);
    let part = emptyScan();
    let listed = 0;
    const flush = () => {
      absorb(whole, part);
      onChunk?.(part);
      part = emptyScan();
      listed = 0;
    };
    for (const [i, t] of top.entries()) {
      if (!added.has(shardIds[i] as number)) continue;
      scanDir(dir, t, isTrusted(t), manifest, known.get(t.rel) ?? [], full, true, part);
      if (onChunk !== undefined && ++listed === SCAN_CHUNK_DIRS) {
        flush();
        await new Promise((resolve) => setImmediate(resolve)); // the threads' outcomes come back, and take the next batches
      }
    }
    flush();
    return whole;
  };
  const initial = full ? loadAll(shards) : shards.ensure(seeds);
  const run: Run = {
    dir,
    manifest,
    next: { ...manifest, dirs: { ...manifest.dirs }, files: {}, sidecars: {}, pages: { ...manifest.pages } },
    scan: emptyScan(),
    dirtyProjects: new Set(),
    touchedDirs: new Set(),
    present: onTop,
    isChanged: false,
    // Sized by the read probe of the files themselves (what the threads wait on), not by the stat
    // probe: warm and cold stats can lie close to its threshold on a virtual disk, and a warm full
    // index sent down the cold path by one stall runs slower with the cold path's extra threads.
    workers: new IndexWorkers(),
    written: 0,
    removed: 0,
    pageCrcs: { ...head.pageCrcs },
    problems: [],
    options,
  };
  const scan = run.scan;
  // The files to inspect go to the threads chunk by chunk while the scan lists the next directories.
  const inspection = startInspection(run);
  const inspected = await (async () => {
    await scanNewlyLoaded(initial, scan, inspection.add);
    run.next.sidecars = Object.fromEntries(scan.sidecars);
    timer(`scan (the stat probe says ${isCold ? 'cold' : 'warm'})`);
    return inspection.finish();
  })().catch(async (error: unknown) => {
    await run.workers.close();
    throw error;
  });
  // New files may belong to projects whose other files (and page record) are in shards not loaded yet.
  const late = await scanNewlyLoaded(shards.ensure([], new Set(Object.values(run.next.files).flatMap((r) => (r.project === undefined ? [] : [r.project])))), emptyScan());
  absorb(scan, late);
  for (const [path, record] of late.files) {
    if (record === undefined) continue;
    run.next.files[path] = record;
    if (record.problem !== undefined) run.problems.push({ path, message: record.problem });
  }
  for (const [path, record] of late.sidecars) run.next.sidecars[path] = record;
  timer(`inspect (${inspected} files, ${run.workers.started} threads)`);
  noteRemovedFiles(run);
  noteChangedSidecars(run);
  const after = await (async () => {
    const loadedProjects = await writeAllProjectPages(run, full);
    // The root page lists every project: those of the shards this run loaded as it found them, the others as the head has them.
    const projects = [...new Set([...head.projects.filter((p) => !shards.has(p)), ...loadedProjects])].sort();
    // The same projects, and the top level untouched since the root pages were written: they still hold.
    const topTrusted = top.some((t) => t.rel === '' && isTrusted(t));
    const isRootCurrent = !full && topTrusted && head.rootPage !== undefined && sameList(projects, head.projects);
    const pageCrcs: Record<string, string> = {};
    for (const project of projects) {
      const record = run.next.pages[project];
      pageCrcs[project] = run.pageCrcs[project] ?? (record === undefined ? '?' : `${record.html} ${record.json}`);
    }
    const digest = pagesDigestOf(projects, pageCrcs);
    if (!isRootCurrent || digest !== head.pagesDigest) writeRootPages(run, projects, digest);
    timer('pages');
    // Everything this run writes before its manifest is written by now: the syncfs that makes it durable
    // (a child process) runs while the threads record the directories and this one serializes the shards.
    const synced = run.written > 0 ? syncFileSystem(dir) : undefined;
    const recorded = run.workers.recordDirectories(recordJobs(run));
    const shardBytes = serializeShards(dir, run.next, shards.loaded);
    applyRecords(run, await recorded);
    timer('record directories, serialize shards');
    return { projects, pageCrcs, digest, synced, shardBytes };
  })().finally(() => run.workers.close());
  const { projects, pageCrcs, digest, synced } = after;
  const nextHead = updateHead(head, run, shards, projects, full);
  nextHead.pageCrcs = pageCrcs;
  nextHead.pagesDigest = digest;
  // Nothing read, written or removed, no directory record changed: the manifest on disk still holds.
  if (full || run.isChanged || inspected > 0 || run.written > 0 || run.removed > 0 || run.scan.files.size !== Object.keys(manifest.files).length || sidecarsChanged(run) || !sameHead(nextHead, head)) {
    // The pages and `.metadata` files durable before the manifest that vouches for them: a power loss
    // after it must not leave an empty page or metadata file that the next run, trusting its record, keeps.
    // (Where `sync -f` cannot run, the run goes on as before, without that guarantee.)
    const serialized = serializeManifest(dir, nextHead, after.shardBytes);
    if (synced !== undefined) {
      timer('manifest serialized');
      await synced;
      timer('syncfs (the rest of it)');
    }
    await writeManifest(serialized);
  }
  timer('manifest');
  return { projects: projects.length, files: nextHead.goodFiles, inspected, written: run.written, removed: run.removed, problems: run.problems };
}

function loadAll(shards: ShardSet): Set<number> {
  const added = new Set<number>();
  for (const id of shards.all()) for (const loaded of shards.ensureId(id)) added.add(loaded);
  return added;
}

function absorb(into: Scan, part: Scan): void {
  appendAll(into.dirs, part.dirs);
  for (const [path, record] of part.files) into.files.set(path, record);
  for (const [path, record] of part.sidecars) into.sidecars.set(path, record);
  for (const path of part.needMetadata) into.needMetadata.add(path);
}

const isGood = (record: FileRecord) => record.problem === undefined && record.project !== undefined;

/** The head after this run: directories, projects, counts and stray directories as they are now. */
function updateHead(head: ManifestHead, run: Run, shards: ShardSet, projects: string[], full: boolean): ManifestHead {
  const goodBefore = full ? 0 : Object.values(run.manifest.files).filter(isGood).length;
  const goodAfter = Object.values(run.next.files).filter(isGood).length;
  const strays: Record<string, string[]> = {};
  for (const [project, dirs] of Object.entries(head.strays)) if (!shards.has(project)) strays[project] = dirs;
  const dirsOf = new Map<string, Set<string>>();
  for (const [path, record] of Object.entries(run.next.files)) {
    if (!isGood(record)) continue;
    const rel = dirOfPath(path);
    if (rel === record.project) continue;
    const set = dirsOf.get(record.project as string) ?? new Set();
    set.add(rel);
    dirsOf.set(record.project as string, set);
  }
  for (const [project, dirs] of dirsOf) strays[project] = [...dirs].sort();
  const yanked: Record<string, string> = {};
  for (const [path, mtimeNs] of Object.entries(head.yanked)) if (!shards.has(dirOfPath(path))) yanked[path] = mtimeNs;
  for (const [path, record] of Object.entries(run.next.sidecars)) if (path.endsWith('.yanked')) yanked[path] = record.mtimeNs;
  const next: ManifestHead = {
    version: MANIFEST_VERSION,
    dirs: run.next.dirs,
    projects,
    strays,
    yanked,
    goodFiles: (full ? 0 : head.goodFiles) + goodAfter - goodBefore,
  };
  const rootPage = run.next.pages[''];
  if (rootPage !== undefined) next.rootPage = rootPage;
  return next;
}

/**
 * Hash and read metadata of every new or changed file (and of those whose `.metadata` went missing),
 * on worker threads: `add` takes each scanned chunk, `finish` waits for the last outcomes, applies
 * them all and returns how many files were inspected.
 */
function startInspection(run: Run): { add: (part: Scan) => void; finish: () => Promise<number> } {
  const known: InspectOutcome[] = [];
  let jobCount = 0;
  const stream = run.workers.openInspection((done, queued) => {
    if (done % 50 === 0 || done === queued) run.options.onProgress?.({ phase: 'inspect', done, total: queued });
  });
  const add = (part: Scan) => {
    const todo = [...part.files].filter(([path, record]) => record === undefined || part.needMetadata.has(path)).map(([path]) => path);
    const taken = takeInspected(run, todo);
    appendAll(known, taken.values());
    const jobs = todo.filter((path) => !taken.has(path)).map((path) => {
      const record = run.manifest.files[path];
      return { dir: run.dir, path, knownMetadataSha256: record?.metadataSha256, isNew: record === undefined };
    });
    jobCount += jobs.length;
    stream.add(jobs);
  };
  const finish = async () => {
    applyOutcomes(run, [...known, ...(await stream.finish())]);
    return jobCount;
  };
  return { add, finish };
}

function applyOutcomes(run: Run, outcomes: InspectOutcome[]): void {
  for (const outcome of outcomes) {
    const old = run.manifest.files[outcome.path];
    if (old?.project) run.dirtyProjects.add(old.project);
    if (outcome.record === undefined) {
      run.scan.files.delete(outcome.path); // vanished since the scan
      continue;
    }
    run.next.files[outcome.path] = outcome.record;
    if (outcome.record.project) run.dirtyProjects.add(outcome.record.project);
    if (outcome.wroteMetadata) {
      run.written++;
      run.touchedDirs.add(dirOf(outcome.path));
      run.options.onStep?.(`wrote ${outcome.path}.metadata`);
    }
  }
  for (const [path, record] of run.scan.files) {
    if (record !== undefined && run.next.files[path] === undefined) run.next.files[path] = record;
    const current = run.next.files[path] as FileRecord;
    if (current.problem !== undefined) run.problems.push({ path, message: current.problem });
  }
}

/**
 * Files of `todo` the caller inspected already (options.inspected): their outcomes, taken as they are. The
 * caller vouches for them: sync made each record from the very inode it then renamed into place, under its
 * lock, a moment ago. Checking each again would cost a stat and an exists per file in the final
 * re-index after a large sync; a file changed since has another mtime, and the next run inspects it again.
 */
function takeInspected(run: Run, todo: string[]): Map<string, InspectOutcome> {
  const known = new Map<string, InspectOutcome>();
  const given = run.options.inspected;
  if (given === undefined || given.size === 0) return known;
  for (const path of todo) {
    const record = given.get(path);
    if (record === undefined || run.manifest.files[path] !== undefined) continue;
    known.set(path, { path, record, wroteMetadata: record.metadataSha256 !== undefined });
  }
  return known;
}

/** DIB_PYPI_DEBUG_TIMING=1: how long each phase took, on stderr. */
function phaseTimer(isOn: boolean): (phase: string) => void {
  let last = process.hrtime.bigint();
  return (phase) => {
    if (!isOn) return;
    const now = process.hrtime.bigint();
    process.stderr.write(`dib-pypi: timing: ${phase} ${(Number(now - last) / 1e6).toFixed(1)} ms\n`);
    last = now;
  };
}

function dirOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}

/** Files the manifest knew in a listed directory that are gone: their projects change, their `.metadata` goes. */
function noteRemovedFiles(run: Run): void {
  const listed = new Set(run.scan.dirs.filter((d) => d.listed).map((d) => d.rel));
  for (const [path, record] of Object.entries(run.manifest.files)) {
    if (run.scan.files.has(path)) continue;
    const rel = dirOf(path);
    if (!listed.has(rel) && existsSync(join(run.dir, rel))) continue;
    if (record.project) run.dirtyProjects.add(record.project);
    if (record.metadataSha256 !== undefined) {
      rmSync(join(run.dir, `${path}.metadata`), { force: true });
      run.removed++;
      run.touchedDirs.add(rel);
    }
  }
}

function sidecarsChanged(run: Run): boolean {
  const before = Object.entries(run.manifest.sidecars);
  const after = run.next.sidecars;
  return before.length !== Object.keys(after).length || before.some(([path, r]) => after[path]?.mtimeNs !== r.mtimeNs || after[path]?.text !== r.text);
}

function noteChangedSidecars(run: Run): void {
  const before = run.manifest.sidecars;
  const after = run.next.sidecars;
  for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[path]?.text === after[path]?.text && (before[path] === undefined) === (after[path] === undefined)) continue;
    const dist = SIDECARS.reduce((p, s) => (p.endsWith(s) ? p.slice(0, -s.length) : p), path);
    const project = run.next.files[dist]?.project ?? run.manifest.files[dist]?.project;
    if (project) run.dirtyProjects.add(project);
  }
}

function writeIfChanged(run: Run, target: string, text: string, previousCrc: string | undefined): string {
  const { crc, isWritten } = writePageIfChanged(target, text, previousCrc);
  if (isWritten) {
    run.written++;
    run.options.onStep?.(`wrote ${target}`);
  }
  return crc;
}

/** Render and write the pages of every changed project (on the worker threads); remove pages of projects with no file left. Returns all projects. */
async function writeAllProjectPages(run: Run, full: boolean): Promise<string[]> {
  const byProject = new Map<string, string[]>();
  for (const [path, record] of Object.entries(run.next.files)) {
    if (record.problem !== undefined || record.project === undefined) continue;
    const list = byProject.get(record.project) ?? [];
    list.push(path);
    byProject.set(record.project, list);
  }
  const projects = [...byProject.keys()].sort();
  const scanned = new Map(run.scan.dirs.map((d) => [d.rel, d]));
  const todo = projects.filter((project) => {
    // A page we wrote into a directory whose mtime has not changed since is still there: no stat needed.
    const dirScan = scanned.get(project);
    const isMissing = run.next.pages[project] === undefined || (dirScan?.listed === false ? false : dirScan ? !dirScan.generated.has('index.html') : !existsSync(join(run.dir, project, 'index.html')));
    return full || isMissing || run.dirtyProjects.has(project);
  });
  const makeJob = (i: number): PageJob => {
    const project = todo[i] as string;
    const dirScan = scanned.get(project);
    const page = buildProjectPage(project, byProject.get(project) as string[], run.next.files, run.next.sidecars);
    const job: PageJob = { dir: run.dir, page, previous: full ? undefined : run.next.pages[project] };
    if (dirScan?.listed === true) job.listed = { hasHtml: dirScan.generated.has('index.html'), hasJson: dirScan.generated.has('index.json') };
    return job;
  };
  const outcomes = await run.workers.writePages(todo.length, makeJob, (done) => {
    run.options.onProgress?.({ phase: 'write', done, total: todo.length });
    run.options.onStep?.(`wrote the pages of ${done} projects`);
  });
  for (const outcome of outcomes) {
    run.next.pages[outcome.project] = outcome.record;
    run.pageCrcs[outcome.project] = `${outcome.record.html} ${outcome.record.json}`;
    run.touchedDirs.add(outcome.project);
    run.written += outcome.written;
  }
  for (const project of Object.keys(run.next.pages)) {
    if (project === '' || byProject.has(project)) continue; // '' is the root page
    rmSync(join(run.dir, project, 'index.html'), { force: true });
    rmSync(join(run.dir, project, 'index.json'), { force: true });
    delete run.next.pages[project];
    run.removed += 2;
    try {
      rmdirSync(join(run.dir, project)); // only when nothing else is in it
    } catch {
      run.touchedDirs.add(project);
    }
  }
  return projects;
}

/**
 * The root JSON page's digest of every project page: sha256 over each project's name and the CRCs of
 * its two pages, in the root page's order. It changes whenever a page's bytes do (as far as the
 * indexer can tell: a page it would not rewrite, same CRC, is the same page to it). A project whose
 * CRCs a manifest from before this digest did not record counts as `?` until its pages are written;
 * those pages have not changed since, or they would have been.
 */
export function pagesDigestOf(projects: readonly string[], pageCrcs: Readonly<Record<string, string>>): string {
  const hash = createHash('sha256');
  for (const project of projects) hash.update(`${project} ${pageCrcs[project] ?? '?'}\n`);
  return hash.digest('hex');
}

/** The root pages, written last (after every project page): a reader that sees the new digest sees the pages it stands for. */
function writeRootPages(run: Run, projects: string[], digest: string): void {
  const previous = run.next.pages[''];
  const html = writeIfChanged(run, join(run.dir, 'index.html'), renderRootHtml(projects), previous?.html);
  const json = writeIfChanged(run, join(run.dir, 'index.json'), renderRootJson(projects, digest), previous?.json);
  run.next.pages[''] = { html, json };
  run.touchedDirs.add('');
}

/** The directories to record after this run's writes (record-dirs.ts): all it listed or wrote into. */
function recordJobs(run: Run): RecordJob[] {
  const dirs = new Map(run.scan.dirs.map((d) => [d.rel, d]));
  const rels = [...new Set([...dirs.keys(), ...run.touchedDirs])].filter((rel) => {
    const scanned = dirs.get(rel);
    return !(scanned && !scanned.listed && !run.touchedDirs.has(rel)); // trusted and untouched: keep its record
  });
  return rels.map((rel) => {
    const scanned = dirs.get(rel);
    return { dir: run.dir, rel, expected: scanned ? [...scanned.distNames, ...scanned.sidecarNames].sort() : [] };
  });
}

/** The recorded mtimes into the next manifest; directories of shards this run did not load keep their records as the head has them, gone ones go. */
function applyRecords(run: Run, outcomes: RecordOutcome[]): void {
  for (const { rel, mtime } of outcomes) {
    if (mtime === undefined) {
      delete run.next.dirs[rel];
      continue;
    }
    if (run.next.dirs[rel]?.mtime !== mtime) run.isChanged = true;
    run.next.dirs[rel] = { mtime };
  }
  for (const rel of Object.keys(run.next.dirs)) {
    if (run.present.has(rel) || run.touchedDirs.has(rel)) continue;
    delete run.next.dirs[rel];
    run.isChanged = true;
  }
}

/** Whether two heads hold the same records (a field-by-field walk: serialising a 5,000-project head twice cost more than the rest of a no-change run). */
function sameHead(a: ManifestHead, b: ManifestHead): boolean {
  return (
    a.version === b.version &&
    a.goodFiles === b.goodFiles &&
    sameList(a.projects, b.projects) &&
    sameRecords(a.dirs, b.dirs, (x, y) => x.mtime === y.mtime) &&
    sameRecords(a.strays, b.strays, sameList) &&
    sameRecords(a.yanked, b.yanked, (x, y) => x === y) &&
    a.rootPage?.html === b.rootPage?.html &&
    a.rootPage?.json === b.rootPage?.json &&
    a.pagesDigest === b.pagesDigest &&
    sameRecords(a.pageCrcs ?? {}, b.pageCrcs ?? {}, (x, y) => x === y)
  );
}

function sameRecords<T>(a: Record<string, T>, b: Record<string, T>, same: (x: T, y: T) => boolean): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const other = b[key];
    if (other === undefined || !same(a[key] as T, other)) return false;
  }
  return true;
}
