// What an index run does, decided without touching the disk: which directories to list, which files to inspect, which generated files go, which pages to write.
import { createHash } from 'node:crypto';
import { dirOfPath, type FileRecord, type Manifest, type ManifestHead, type PageRecord } from '../store/manifest.js';
import type { InspectJob, InspectOutcome } from './inspect-job.js';
import { sameList } from './record-dirs.js';
import { SIDECARS, type DirScan, type Scan, type TopDir } from './scan-mirror.js';

/**
 * The directories this run lists instead of trusting the head's records: every one in a full run; else
 * those whose mtime is not the recorded one (or was recorded as untrustworthy, `'0'`) and those holding a
 * `.yanked` file that changed (edited in place, which leaves the directory's mtime alone).
 */
export function untrustedDirs(top: readonly TopDir[], headDirs: ManifestHead['dirs'], full: boolean, changedYanked: ReadonlySet<string>): Set<string> {
  const untrusted = new Set<string>();
  for (const t of top) if (full || headDirs[t.rel]?.mtime !== t.mtime || t.mtime === '0' || changedYanked.has(t.rel)) untrusted.add(t.rel);
  return untrusted;
}

/** The directories whose manifest shards the run loads first: all in a full run, else the untrusted ones and those the head knows that are gone. */
export function seedDirs(top: readonly TopDir[], headDirs: ManifestHead['dirs'], untrusted: ReadonlySet<string>, full: boolean): string[] {
  if (full) return top.map((t) => t.rel);
  const onTop = new Set(top.map((t) => t.rel));
  return [...untrusted, ...Object.keys(headDirs).filter((rel) => !onTop.has(rel))];
}

/**
 * What to do with one scanned chunk: files with no record that still holds (new, changed) or whose `.metadata`
 * went missing are inspected, except the new ones the caller inspected already (`given`, IndexOptions.inspected),
 * whose outcomes are taken as they are. The caller vouches for those: sync made each record from the very inode
 * it then renamed into place, under its lock, a moment ago; a file changed since has another mtime, and the next
 * run inspects it again.
 */
export function planInspection(
  dir: string,
  part: Scan,
  manifest: Manifest,
  given?: ReadonlyMap<string, FileRecord>,
): { taken: InspectOutcome[]; jobs: InspectJob[] } {
  const taken: InspectOutcome[] = [];
  const jobs: InspectJob[] = [];
  for (const [path, scanned] of part.files) {
    if (scanned !== undefined && !part.needMetadata.has(path)) continue;
    const known = manifest.files[path];
    const record = known === undefined && given !== undefined && given.size > 0 ? given.get(path) : undefined;
    if (record !== undefined) taken.push({ path, record, wroteMetadata: record.metadataSha256 !== undefined });
    else jobs.push({ dir, path, knownMetadataSha256: known?.metadataSha256, isNew: known === undefined });
  }
  return { taken, jobs };
}

/** Files the manifest knew that are gone: the projects whose pages change, and the files whose `.metadata` goes. */
export interface GoneFiles {
  projects: string[];
  /** Relative paths of the distributions whose `<path>.metadata` is to be removed. */
  metadata: string[];
}

/**
 * Files of the manifest the scan did not find, in directories it listed or that are gone (`dirExists` is
 * asked only about directories it did not list: a trusted one's files are all in the scan).
 */
export function goneFiles(scan: Scan, manifest: Manifest, dirExists: (rel: string) => boolean): GoneFiles {
  const listed = new Set(scan.dirs.filter((d) => d.listed).map((d) => d.rel));
  const gone: GoneFiles = { projects: [], metadata: [] };
  for (const [path, record] of Object.entries(manifest.files)) {
    if (scan.files.has(path)) continue;
    const rel = dirOfPath(path);
    if (!listed.has(rel) && dirExists(rel)) continue;
    if (record.project) gone.projects.push(record.project);
    if (record.metadataSha256 !== undefined) gone.metadata.push(path);
  }
  return gone;
}

/** Projects with a sidecar (`.yanked`, `.upload-time`) added, removed or with another text since the last run. */
export function projectsOfChangedSidecars(before: Manifest, next: Manifest): string[] {
  const projects: string[] = [];
  for (const path of new Set([...Object.keys(before.sidecars), ...Object.keys(next.sidecars)])) {
    const was = before.sidecars[path];
    const is = next.sidecars[path];
    if (was?.text === is?.text && (was === undefined) === (is === undefined)) continue;
    const dist = SIDECARS.reduce((p, s) => (p.endsWith(s) ? p.slice(0, -s.length) : p), path);
    const project = next.files[dist]?.project ?? before.files[dist]?.project;
    if (project) projects.push(project);
  }
  return projects;
}

/** The good files (no problem, a project) of each project, in the records' order. */
export function filesByProject(files: Readonly<Record<string, FileRecord>>): Map<string, string[]> {
  const byProject = new Map<string, string[]>();
  for (const [path, record] of Object.entries(files)) {
    if (record.problem !== undefined || record.project === undefined) continue;
    const list = byProject.get(record.project) ?? [];
    list.push(path);
    byProject.set(record.project, list);
  }
  return byProject;
}

/**
 * The projects whose pages are (re)written: all in a full run, those whose files or sidecars changed, and
 * those whose page is missing. A page the manifest records in a directory the scan trusted is there (no stat);
 * in a listed one the listing says; `pageOnDisk` is asked only about projects whose directory was not scanned.
 */
export function projectPagesToWrite(
  projects: readonly string[],
  scanned: ReadonlyMap<string, DirScan>,
  pages: Readonly<Record<string, PageRecord>>,
  dirty: ReadonlySet<string>,
  full: boolean,
  pageOnDisk: (project: string) => boolean,
): string[] {
  return projects.filter((project) => {
    if (full || dirty.has(project) || pages[project] === undefined) return true;
    const dirScan = scanned.get(project);
    if (dirScan === undefined) return !pageOnDisk(project);
    return dirScan.listed && !dirScan.generated.has('index.html');
  });
}

/** Projects with page records but no file left: their pages go. */
export function orphanPages(pages: Readonly<Record<string, PageRecord>>, byProject: ReadonlyMap<string, string[]>): string[] {
  return Object.keys(pages).filter((project) => project !== '' && !byProject.has(project)); // '' is the root page
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

export interface RootPlanInput {
  head: ManifestHead;
  full: boolean;
  /** The projects with files among the shards this run loaded. */
  loadedProjects: readonly string[];
  /** Whether the shard of a project's directory was loaded (else the head's project list speaks for it). */
  isLoaded: (project: string) => boolean;
  /** The top level's mtime is the recorded one. */
  isTopTrusted: boolean;
  /** Page records as they are now (`pages['']` the root's). */
  pages: Readonly<Record<string, PageRecord>>;
  /** Per project, the CRCs of its pages as far as known (the head's, updated by the pages this run wrote). */
  pageCrcs: Readonly<Record<string, string>>;
}

export interface RootPlan {
  projects: string[];
  pageCrcs: Record<string, string>;
  digest: string;
  /** The root pages must be written (rewritten when their bytes differ). */
  isWanted: boolean;
}

/**
 * The root pages list every project: those of the shards this run loaded as it found them, the others as
 * the head has them. With the same projects, the top level untouched since the root pages were written
 * and the same digest, they still hold.
 */
export function planRootPages(input: RootPlanInput): RootPlan {
  const { head } = input;
  const projects = [...new Set([...head.projects.filter((p) => !input.isLoaded(p)), ...input.loadedProjects])].sort();
  const isRootCurrent = !input.full && input.isTopTrusted && head.rootPage !== undefined && sameList(projects, head.projects);
  const pageCrcs: Record<string, string> = {};
  for (const project of projects) {
    const record = input.pages[project];
    pageCrcs[project] = input.pageCrcs[project] ?? (record === undefined ? '?' : `${record.html} ${record.json}`);
  }
  const digest = pagesDigestOf(projects, pageCrcs);
  return { projects, pageCrcs, digest, isWanted: !isRootCurrent || digest !== head.pagesDigest };
}
