// What an index run records when it is done, decided without touching the disk: which directories to record, the manifest head after the run, whether the manifest must be written.
import { dirOfPath, MANIFEST_VERSION, type DirRecord, type FileRecord, type Manifest, type ManifestHead, type SidecarRecord } from '../store/manifest.js';
import { sameList, type RecordJob, type RecordOutcome } from './record-dirs.js';
import type { DirScan } from './scan-mirror.js';

/** The directories to record after this run's writes (record-dirs.ts): all it listed or wrote into; trusted, untouched ones keep their records. */
export function recordJobs(dir: string, scanned: readonly DirScan[], touched: ReadonlySet<string>): RecordJob[] {
  const dirs = new Map(scanned.map((d) => [d.rel, d]));
  const rels = [...new Set([...dirs.keys(), ...touched])].filter((rel) => {
    const dirScan = dirs.get(rel);
    return !(dirScan && !dirScan.listed && !touched.has(rel));
  });
  return rels.map((rel) => {
    const dirScan = dirs.get(rel);
    return { dir, rel, expected: dirScan ? [...dirScan.distNames, ...dirScan.sidecarNames].sort() : [] };
  });
}

/**
 * The recorded mtimes into `dirs` (the next manifest's, edited in place); directories of shards this run did
 * not load keep their records as the head has them, gone ones (neither `present` nor `touched`) go. Returns
 * whether any record changed.
 */
export function applyRecords(
  dirs: Record<string, DirRecord>,
  outcomes: readonly RecordOutcome[],
  present: ReadonlySet<string>,
  touched: ReadonlySet<string>,
): boolean {
  let isChanged = false;
  for (const { rel, mtime } of outcomes) {
    if (mtime === undefined) {
      delete dirs[rel];
      continue;
    }
    if (dirs[rel]?.mtime !== mtime) isChanged = true;
    dirs[rel] = { mtime };
  }
  for (const rel of Object.keys(dirs)) {
    if (present.has(rel) || touched.has(rel)) continue;
    delete dirs[rel];
    isChanged = true;
  }
  return isChanged;
}

const isGood = (record: FileRecord) => record.problem === undefined && record.project !== undefined;

export interface HeadInput {
  head: ManifestHead;
  /** The records the run started from (the head's directories and the shards it loaded). */
  before: Manifest;
  /** The records after the run. */
  next: Manifest;
  /** Whether the shard of a directory was loaded (else the head's strays and `.yanked` mtimes for it stand). */
  isLoaded: (rel: string) => boolean;
  projects: string[];
  full: boolean;
  pageCrcs: Record<string, string>;
  pagesDigest: string;
}

/** The head after this run: directories, projects, counts, stray directories and `.yanked` mtimes as they are now. */
export function nextHead(input: HeadInput): ManifestHead {
  const { head, next, full } = input;
  const goodBefore = full ? 0 : Object.values(input.before.files).filter(isGood).length;
  const goodAfter = Object.values(next.files).filter(isGood).length;
  const strays: Record<string, string[]> = {};
  for (const [project, dirs] of Object.entries(head.strays)) if (!input.isLoaded(project)) strays[project] = dirs;
  const dirsOf = new Map<string, Set<string>>();
  for (const [path, record] of Object.entries(next.files)) {
    if (!isGood(record)) continue;
    const rel = dirOfPath(path);
    const project = record.project as string;
    if (rel === project) continue;
    const set = dirsOf.get(project) ?? new Set();
    set.add(rel);
    dirsOf.set(project, set);
  }
  for (const [project, dirs] of dirsOf) strays[project] = [...dirs].sort();
  const yanked: Record<string, string> = {};
  for (const [path, mtimeNs] of Object.entries(head.yanked)) if (!input.isLoaded(dirOfPath(path))) yanked[path] = mtimeNs;
  for (const [path, record] of Object.entries(next.sidecars)) if (path.endsWith('.yanked')) yanked[path] = record.mtimeNs;
  const result: ManifestHead = {
    version: MANIFEST_VERSION,
    dirs: next.dirs,
    projects: input.projects,
    strays,
    yanked,
    goodFiles: (full ? 0 : head.goodFiles) + goodAfter - goodBefore,
  };
  const rootPage = next.pages[''];
  if (rootPage !== undefined) result.rootPage = rootPage;
  result.pageCrcs = input.pageCrcs;
  result.pagesDigest = input.pagesDigest;
  return result;
}

export interface CommitFacts {
  full: boolean;
  /** A directory record changed. */
  isChanged: boolean;
  inspected: number;
  written: number;
  removed: number;
  /** Distribution files the scan found. */
  scannedFiles: number;
}

/** Whether the manifest must be written: anything read, written or removed, a directory record, a sidecar or the head changed. Else the one on disk still holds. */
export function mustWriteManifest(facts: CommitFacts, before: Manifest, next: Manifest, head: ManifestHead, updated: ManifestHead): boolean {
  return (
    facts.full ||
    facts.isChanged ||
    facts.inspected > 0 ||
    facts.written > 0 ||
    facts.removed > 0 ||
    facts.scannedFiles !== Object.keys(before.files).length ||
    sidecarsChanged(before.sidecars, next.sidecars) ||
    !sameHead(updated, head)
  );
}

export function sidecarsChanged(before: Readonly<Record<string, SidecarRecord>>, after: Readonly<Record<string, SidecarRecord>>): boolean {
  const entries = Object.entries(before);
  return entries.length !== Object.keys(after).length || entries.some(([path, r]) => after[path]?.mtimeNs !== r.mtimeNs || after[path]?.text !== r.text);
}

/** Whether two heads hold the same records (a field-by-field walk: serializing a large head twice would cost more than the rest of a no-change run). */
export function sameHead(a: ManifestHead, b: ManifestHead): boolean {
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
