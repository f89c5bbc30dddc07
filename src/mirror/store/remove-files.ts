// `mirror remove`: take a project, a version or a file out of the mirror, all or nothing. First a journal,
// `DIR/.dib-pypi/removing/<id>/journal.json`, lists every path that goes; every index run hides the paths of the
// journals it finds, so the re-index that follows drops them from the pages; only then are they deleted. A run
// killed at any step leaves pages that link only files that are there; the next change (or index) finishes it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { fsyncPath } from '../../fs/atomic-write.js';
import { replaceFile } from '../../fs/replace-file.js';
import { removingDir, upstreamStateDir } from './layout.js';
import { lockMirror } from './lock.js';
import { companionsOf, describeTarget, findTargetFiles, hasProjectDir, NotInMirrorError } from './mirror-target.js';
import { addRemoval, forgetRemoval, readRemovalRecord, writeRemovalRecord, type RemovalTarget } from './removal-record.js';
import type { IndexRun } from './reindex-queue.js';
import { passesSymlink } from '../../fs/symlinked-dir.js';

export interface ChangeHooks<Result> {
  /** Re-index the mirror (the index sits above the store: whoever composes them gives the run). */
  reindex: IndexRun<Result>;
  /** Called after each file-system step (tests kill the process here). */
  onStep?: (name: string) => void;
}

export interface RemovalOutcome<Result> {
  target: RemovalTarget;
  /** The distribution files removed, relative to the mirror (a removed project's directory counts its files). */
  files: string[];
  /** Every path deleted (files, sidecars, metadata, a project's directory), relative to the mirror. */
  paths: string[];
  index: Result;
}

interface Journal {
  version: 1;
  /** Paths relative to the mirror that go (a project's directory goes whole). */
  paths: string[];
  /** What goes into the project's removal record (none: not recorded). */
  record?: RemovalTarget;
}

const JOURNAL = 'journal.json';

/** The paths a removal of `target` deletes: the files with their companions, or a whole project's directory. */
function pathsToDelete(dir: string, target: RemovalTarget): { files: string[]; paths: string[] } {
  const found = findTargetFiles(dir, target);
  const isWhole = target.version === undefined && target.file === undefined;
  const paths: string[] = [];
  if (isWhole && hasProjectDir(dir, target.project)) paths.push(target.project);
  for (const file of found) {
    if (isWhole && file.rel.startsWith(`${target.project}/`)) continue; // inside the directory that goes whole
    paths.push(file.rel);
    for (const companion of companionsOf(dir, file)) paths.push(companion);
    const kept = join(upstreamStateDir(dir, target.project), `${file.name}.metadata`);
    if (existsSync(kept)) paths.push(relative(dir, kept));
  }
  return { files: found.map((f) => f.rel), paths };
}

/** Record the journal's removal (again: adding is idempotent). */
function recordJournal(dir: string, journal: Journal, onStep?: (name: string) => void): void {
  if (journal.record === undefined) return;
  writeRemovalRecord(dir, journal.record.project, addRemoval(readRemovalRecord(dir, journal.record.project), journal.record));
  onStep?.('removal recorded');
}

/** Delete every path of the journal (the index no longer lists them), fsyncing their directories. */
function deletePaths(dir: string, journal: Journal, onStep?: (name: string) => void): void {
  const touched = new Set<string>();
  for (const path of journal.paths) {
    const full = join(dir, path);
    if (!existsSync(full) || passesSymlink(dir, path)) continue;
    rmSync(full, { recursive: true, force: true });
    touched.add(dirname(full));
    onStep?.(`deleted ${path}`);
  }
  for (const path of touched) fsyncPath(path);
}

function readJournal(work: string): Journal | undefined {
  try {
    const raw = JSON.parse(readFileSync(join(work, JOURNAL), 'utf8')) as Journal;
    if (raw.record !== undefined && (typeof raw.record.project !== 'string' || raw.record.project.includes('/'))) return undefined;
    const isInside = (p: unknown) => typeof p === 'string' && p !== '' && !p.startsWith('/') && !p.split('/').some((part) => part === '..' || part === '');
    return raw.version === 1 && Array.isArray(raw.paths) && raw.paths.every(isInside) ? raw : undefined;
  } catch {
    return undefined;
  }
}

/** The removals under way (or killed): their directories, oldest first. */
function pendingRemovals(dir: string): string[] {
  try {
    return readdirSync(removingDir(dir))
      .sort()
      .map((name) => join(removingDir(dir), name));
  } catch {
    return [];
  }
}

/** Paths (relative to the mirror) that a removal under way or killed takes out: never indexed, and `mirror verify` does not miss them. */
export function pendingRemovalPaths(dir: string): Set<string> {
  const paths = new Set<string>();
  for (const work of pendingRemovals(dir)) for (const path of readJournal(work)?.paths ?? []) paths.add(path);
  return paths;
}

/** Finish removals a killed run left (under the change lock): record, re-index (which hides their files), delete. Returns how many there were. */
async function finishPending<Result>(dir: string, hooks: ChangeHooks<Result>): Promise<number> {
  const works = pendingRemovals(dir);
  if (works.length === 0) return 0;
  const journals = works.map(readJournal);
  for (const journal of journals) if (journal !== undefined) recordJournal(dir, journal, hooks.onStep);
  await hooks.reindex();
  // No journal: killed before it was in place (it is renamed in whole), so before anything else.
  for (const journal of journals) if (journal !== undefined) deletePaths(dir, journal, hooks.onStep);
  for (const work of works) rmSync(work, { recursive: true, force: true });
  fsyncPath(removingDir(dir));
  return works.length;
}

/**
 * Remove `target` (checked by checkTarget) from the mirror `dir`, under its change lock: journal it, record it
 * (unless `isRecorded` is false) so that the pull-through cache never fetches it back, re-index, delete. Throws NotInMirrorError (nothing of the target is there) before anything is changed.
 */
export async function removeFromMirror<Result>(
  dir: string,
  target: RemovalTarget,
  hooks: ChangeHooks<Result> & { isRecorded?: boolean },
): Promise<RemovalOutcome<Result>> {
  const release = lockMirror(dir, 'change');
  try {
    await finishPending(dir, hooks);
    const { files, paths } = pathsToDelete(dir, target);
    mkdirSync(removingDir(dir), { recursive: true });
    const work = join(removingDir(dir), `${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(work);
    const journal: Journal = { version: 1, paths, ...(hooks.isRecorded === false ? {} : { record: target }) };
    replaceFile(join(work, JOURNAL), `${JSON.stringify(journal)}\n`);
    fsyncPath(join(work, JOURNAL));
    fsyncPath(work);
    fsyncPath(removingDir(dir));
    hooks.onStep?.('removal journal written');
    recordJournal(dir, journal, hooks.onStep);
    const index = await hooks.reindex(); // every index run hides the journal's paths: the pages drop them first
    deletePaths(dir, journal, hooks.onStep);
    rmSync(work, { recursive: true, force: true });
    fsyncPath(removingDir(dir));
    hooks.onStep?.('removal finished');
    return { target, files, paths, index };
  } finally {
    release();
  }
}

/** Finish what killed removals left, under the change lock (any change of the mirror, and mirror index, does this first). */
export async function finishRemovals<Result>(dir: string, hooks: ChangeHooks<Result>): Promise<number> {
  if (pendingRemovals(dir).length === 0) return 0; // nothing to finish: no lock taken (a removal running elsewhere is left alone)
  const release = lockMirror(dir, 'change');
  try {
    return await finishPending(dir, hooks);
  } finally {
    release();
  }
}

/** Drop `target` from its project's removal record (`mirror remove --forget`): the pull-through cache may fetch it again. Nothing else changes. */
export function forgetRemoved(dir: string, target: RemovalTarget): void {
  const release = lockMirror(dir, 'change');
  try {
    const { record, forgotten } = forgetRemoval(readRemovalRecord(dir, target.project), target);
    if (!forgotten) throw new NotInMirrorError(`no removal of ${describeTarget(target)} is recorded in ${dir}`, target);
    writeRemovalRecord(dir, target.project, record);
  } finally {
    release();
  }
}
