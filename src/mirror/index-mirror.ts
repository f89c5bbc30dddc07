// `mirror index`: make a directory of distributions a PEP 503/691/658 index, redoing only what changed since the last run.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { posix, join } from 'node:path';
import { UsageError } from '../errors.js';
import { crc32Hex } from '../fs/crc32.js';
import { replaceFile } from '../fs/replace-file.js';
import { lockRoot } from '../inject/root-lock.js';
import { parseDistFilename } from './dist-filename.js';
import { inspectDistribution } from './inspect-distribution.js';
import { loadManifest, saveManifest, STATE_DIR, type FileRecord, type Manifest } from './manifest.js';
import { mapLimit } from './map-limit.js';
import { buildProjectPage, projectOfRecord } from './build-pages.js';
import { renderProjectHtml, renderProjectJson, renderRootHtml, renderRootJson } from './render-pages.js';
import { scanMirror, SIDECARS, type Scan } from './scan-mirror.js';
import type { IndexOptions, IndexProblem, IndexResult, InspectedDistribution } from './types.js';

const INSPECT_CONCURRENCY = 16;
/** A directory modified this recently may change again within the same mtime tick: do not trust its mtime next run. */
const RACY_NS = 100_000_000n;

interface Run {
  dir: string;
  manifest: Manifest;
  next: Manifest;
  scan: Scan;
  /** Metadata bytes of wheels inspected in this run, by distribution path. */
  metadataBytes: Map<string, Buffer>;
  dirtyProjects: Set<string>;
  /** Directories this run wrote into or removed from (relative). */
  touchedDirs: Set<string>;
  written: number;
  removed: number;
  problems: IndexProblem[];
  options: IndexOptions;
}

/** Index `options.dir`. Broken files are reported in `problems` and skipped; everything else is indexed. */
export async function indexMirror(options: IndexOptions): Promise<IndexResult> {
  const dir = options.dir;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(dir)}`, 'mirror index');
  mkdirSync(join(dir, STATE_DIR), { recursive: true });
  const release = lockRoot(join(dir, STATE_DIR, 'index.lock'), dir);
  try {
    const { manifest } = loadManifest(dir);
    options.onProgress?.({ phase: 'scan', done: 0, total: 0 });
    const scan = scanMirror(dir, manifest, options.full === true);
    const run: Run = {
      dir,
      manifest,
      next: { ...manifest, dirs: { ...manifest.dirs }, files: {}, sidecars: Object.fromEntries(scan.sidecars), pages: { ...manifest.pages }, metadata: {} },
      scan,
      metadataBytes: new Map(),
      dirtyProjects: new Set(),
      touchedDirs: new Set(),
      written: 0,
      removed: 0,
      problems: [],
      options,
    };
    const inspected = await inspectChanged(run);
    noteRemovedFiles(run);
    noteChangedSidecars(run);
    writeMetadataFiles(run);
    const projects = writeProjectPages(run, options.full === true);
    writeRootPages(run, projects);
    recordDirectories(run);
    saveManifest(dir, run.next);
    const files = Object.values(run.next.files).filter((r) => r.problem === undefined).length;
    return { projects: projects.length, files, inspected, written: run.written, removed: run.removed, problems: run.problems };
  } finally {
    release();
  }
}

/** Hash and read metadata of every new or changed file (and of those whose `.metadata` went missing). */
async function inspectChanged(run: Run): Promise<number> {
  const todo = [...run.scan.files].filter(([path, record]) => record === undefined || run.scan.needMetadata.has(path)).map(([path]) => path);
  let done = 0;
  await mapLimit(todo, INSPECT_CONCURRENCY, async (path) => {
    run.next.files[path] = await inspectOne(run, path);
    if (++done % 200 === 0 || done === todo.length) run.options.onProgress?.({ phase: 'inspect', done, total: todo.length });
  });
  for (const [path, record] of run.scan.files) {
    if (record !== undefined && run.next.files[path] === undefined) run.next.files[path] = record;
    const current = run.next.files[path] as FileRecord;
    if (current.problem !== undefined) run.problems.push({ path, message: current.problem });
    const metadata = run.manifest.metadata[path];
    if (metadata !== undefined && current.metadataSha256 !== undefined) run.next.metadata[path] = metadata;
  }
  return todo.length;
}

async function inspectOne(run: Run, path: string): Promise<FileRecord> {
  const full = join(run.dir, path);
  const stat = statSync(full, { bigint: true });
  const base = { size: Number(stat.size), mtimeNs: String(stat.mtimeNs) };
  const old = run.manifest.files[path];
  if (old?.project) run.dirtyProjects.add(old.project);
  const filename = parseDistFilename(posix.basename(path));
  if (filename === undefined) return { ...base, problem: 'not a distribution file name (wheel or sdist) pip would accept' };
  let inspected: InspectedDistribution;
  try {
    inspected = await inspectDistribution(full, filename);
  } catch (error) {
    return { ...base, problem: (error as Error).message.replace(`${full}: `, '') };
  }
  const project = projectOfRecord(posix.basename(path), filename, inspected.core);
  run.dirtyProjects.add(project);
  if (inspected.metadata !== undefined) run.metadataBytes.set(path, inspected.metadata);
  const record: FileRecord = { ...base, sha256: inspected.sha256, project, version: filename.version };
  if (inspected.core?.requiresPython !== undefined && inspected.core.requiresPython !== '') record.requiresPython = inspected.core.requiresPython;
  if (inspected.metadataSha256 !== undefined) record.metadataSha256 = inspected.metadataSha256;
  return record;
}

/** Files the manifest knew in a listed directory that are gone: their projects change, their `.metadata` goes. */
function noteRemovedFiles(run: Run): void {
  const listed = new Set(run.scan.dirs.filter((d) => d.listed).map((d) => d.rel));
  for (const [path, record] of Object.entries(run.manifest.files)) {
    if (run.scan.files.has(path)) continue;
    const rel = posix.dirname(path) === '.' ? '' : posix.dirname(path);
    if (!listed.has(rel) && existsSync(join(run.dir, rel))) continue;
    if (record.project) run.dirtyProjects.add(record.project);
    if (run.manifest.metadata[path] !== undefined) {
      rmSync(join(run.dir, `${path}.metadata`), { force: true });
      run.removed++;
      run.touchedDirs.add(rel);
    }
  }
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

/** PEP 658: `<file>.metadata` beside each wheel, written once (its bytes never change for the same wheel). */
function writeMetadataFiles(run: Run): void {
  for (const [path, bytes] of run.metadataBytes) {
    const target = join(run.dir, `${path}.metadata`);
    const record = run.next.files[path] as FileRecord;
    if (!(run.manifest.metadata[path] === record.metadataSha256 && existsSync(target))) {
      replaceFile(target, bytes);
      run.written++;
      run.options.onStep?.(`wrote ${path}.metadata`);
      run.touchedDirs.add(posix.dirname(path) === '.' ? '' : posix.dirname(path));
    }
    run.next.metadata[path] = record.metadataSha256 as string;
  }
}

function writeIfChanged(run: Run, target: string, text: string, previousCrc: string | undefined): string {
  const crc = crc32Hex(text);
  if (crc === previousCrc && existsSync(target)) return crc;
  if (previousCrc === undefined && existsSync(target) && readFileSync(target, 'utf8') === text) return crc;
  replaceFile(target, text);
  run.written++;
  run.options.onStep?.(`wrote ${target}`);
  return crc;
}

/** Render and write the pages of every changed project; remove pages of projects with no file left. Returns all projects. */
function writeProjectPages(run: Run, full: boolean): string[] {
  const byProject = new Map<string, string[]>();
  for (const [path, record] of Object.entries(run.next.files)) {
    if (record.problem !== undefined || record.project === undefined) continue;
    const list = byProject.get(record.project) ?? [];
    list.push(path);
    byProject.set(record.project, list);
  }
  const projects = [...byProject.keys()].sort();
  let done = 0;
  for (const project of projects) {
    const isMissing = run.next.pages[project] === undefined || !existsSync(join(run.dir, project, 'index.html'));
    if (!full && !isMissing && !run.dirtyProjects.has(project)) continue;
    const page = buildProjectPage(project, byProject.get(project) as string[], run.next.files, run.next.sidecars);
    mkdirSync(join(run.dir, project), { recursive: true });
    const previous = full ? undefined : run.next.pages[project];
    const html = writeIfChanged(run, join(run.dir, project, 'index.html'), renderProjectHtml(page), previous?.html);
    const json = writeIfChanged(run, join(run.dir, project, 'index.json'), renderProjectJson(page), previous?.json);
    run.next.pages[project] = { html, json };
    run.touchedDirs.add(project);
    if (++done % 500 === 0) run.options.onProgress?.({ phase: 'write', done, total: projects.length });
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

function writeRootPages(run: Run, projects: string[]): void {
  const previous = run.next.pages[''];
  const html = writeIfChanged(run, join(run.dir, 'index.html'), renderRootHtml(projects), previous?.html);
  const json = writeIfChanged(run, join(run.dir, 'index.json'), renderRootJson(projects), previous?.json);
  run.next.pages[''] = { html, json };
  run.touchedDirs.add('');
}

/**
 * Record each directory's mtime *after* our own writes, so the next run can trust it. The
 * listing is read again between two stats: if anything but what we know appeared meanwhile, or
 * the mtime is too fresh to rule out another change in the same tick, the directory gets no
 * trusted mtime and the next run lists it again.
 */
function recordDirectories(run: Run): void {
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const dirs = new Map(run.scan.dirs.map((d) => [d.rel, d]));
  for (const rel of new Set([...dirs.keys(), ...run.touchedDirs])) {
    const scanned = dirs.get(rel);
    if (scanned && !scanned.listed && !run.touchedDirs.has(rel)) continue; // trusted and untouched: keep its record
    const path = join(run.dir, rel);
    const before = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (before === undefined) {
      delete run.next.dirs[rel];
      continue;
    }
    const entries = readdirSync(path).filter((n) => !n.startsWith('.') && (SIDECARS.some((s) => n.endsWith(s)) || isDistName(n))).sort();
    const after = statSync(path, { bigint: true });
    const expected = scanned ? [...scanned.distNames, ...scanned.sidecarNames].sort() : [];
    const isStable = before.mtimeNs === after.mtimeNs && nowNs - after.mtimeNs > RACY_NS && sameList(entries, expected);
    run.next.dirs[rel] = { mtimeNs: isStable ? String(after.mtimeNs) : '0', entries: scanned ? expected : entries };
  }
  for (const rel of Object.keys(run.next.dirs)) if (!dirs.has(rel) && !run.touchedDirs.has(rel)) delete run.next.dirs[rel];
}

function isDistName(name: string): boolean {
  return /\.(whl|tar\.gz|tgz|zip|tar\.bz2|tar\.xz|tar|egg)$/i.test(name);
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
