// `mirror remove`: take a project, a version or a file out of the mirror, all or nothing. The files are first
// moved (renamed, same file system) into `DIR/.dib-pypi/removing/<id>/` with a journal written before the first
// move; then the mirror is re-indexed; then the moved files are deleted. A run killed at any step leaves every
// file in the mirror or in the journal's directory; the next change of the mirror finishes the removal.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { fsyncPath } from '../../fs/atomic-write.js';
import { replaceFile } from '../../fs/replace-file.js';
import { removingDir, upstreamStateDir } from './layout.js';
import { lockMirror } from './lock.js';
import { companionsOf, describeTarget, findTargetFiles, hasProjectDir, NotInMirrorError } from './mirror-target.js';
import { addRemoval, forgetRemoval, readRemovalRecord, writeRemovalRecord, type RemovalTarget } from './removal-record.js';
import type { IndexRun } from './reindex-queue.js';

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
  /** Every path moved out of the mirror (files, sidecars, metadata, a project's directory), relative to it. */
  paths: string[];
  index: Result;
}

interface Journal {
  version: 1;
  /** Paths relative to the mirror, each moved to `<index in this list>` in the journal's directory. */
  paths: string[];
}

const JOURNAL = 'journal.json';

/** The paths a removal of `target` moves: the files with their companions, or a whole project's directory. */
function pathsToMove(dir: string, target: RemovalTarget): { files: string[]; paths: string[] } {
  const found = findTargetFiles(dir, target);
  const isWhole = target.version === undefined && target.file === undefined;
  const paths: string[] = [];
  if (isWhole && hasProjectDir(dir, target.project)) paths.push(target.project);
  for (const file of found) {
    if (isWhole && file.rel.startsWith(`${target.project}/`)) continue; // inside the directory that moves
    paths.push(file.rel, ...companionsOf(dir, file));
    const kept = join(upstreamStateDir(dir, target.project), `${file.name}.metadata`);
    if (existsSync(kept)) paths.push(relative(dir, kept));
  }
  return { files: found.map((f) => f.rel), paths };
}

/** Move every path of the journal that is still in the mirror into the journal's directory, fsyncing both sides. */
function moveOut(dir: string, work: string, journal: Journal, onStep?: (name: string) => void): void {
  const touched = new Set<string>([work]);
  for (const [i, path] of journal.paths.entries()) {
    const from = join(dir, path);
    const to = join(work, String(i));
    if (existsSync(to) || !existsSync(from)) continue; // moved before a kill, or gone meanwhile
    renameSync(from, to);
    touched.add(dirname(from));
    onStep?.(`moved ${path}`);
  }
  for (const path of touched) fsyncPath(path);
}

function readJournal(work: string): Journal | undefined {
  try {
    const raw = JSON.parse(readFileSync(join(work, JOURNAL), 'utf8')) as Journal;
    return raw.version === 1 && Array.isArray(raw.paths) && raw.paths.every((p) => typeof p === 'string' && !p.split('/').includes('..')) ? raw : undefined;
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

/** Paths (relative to the mirror) that a removal under way or killed has moved or will move out: `mirror verify` does not miss them. */
export function pendingRemovalPaths(dir: string): Set<string> {
  const paths = new Set<string>();
  for (const work of pendingRemovals(dir)) for (const path of readJournal(work)?.paths ?? []) paths.add(path);
  return paths;
}

/** Finish removals a killed run left (under the change lock): move what is left, re-index, delete. Returns how many there were. */
async function finishPending<Result>(dir: string, hooks: ChangeHooks<Result>): Promise<number> {
  const works = pendingRemovals(dir);
  for (const work of works) {
    const journal = readJournal(work);
    // No journal: killed before it was in place, so before any move (a torn journal cannot be: it is renamed in whole).
    if (journal !== undefined) moveOut(dir, work, journal, hooks.onStep);
  }
  if (works.length === 0) return 0;
  await hooks.reindex();
  for (const work of works) rmSync(work, { recursive: true, force: true });
  fsyncPath(removingDir(dir));
  return works.length;
}

/**
 * Remove `target` (checked by checkTarget) from the mirror `dir`, under its change lock: record it (unless
 * `isRecorded` is false) so that the pull-through cache never fetches it back, journal and move its files out,
 * re-index, delete. Throws NotInMirrorError (nothing of the target is there) before anything is changed.
 */
export async function removeFromMirror<Result>(
  dir: string,
  target: RemovalTarget,
  hooks: ChangeHooks<Result> & { isRecorded?: boolean },
): Promise<RemovalOutcome<Result>> {
  const release = lockMirror(dir, 'change');
  try {
    await finishPending(dir, hooks);
    const { files, paths } = pathsToMove(dir, target);
    if (hooks.isRecorded !== false) {
      writeRemovalRecord(dir, target.project, addRemoval(readRemovalRecord(dir, target.project), target));
      hooks.onStep?.('removal recorded');
    }
    mkdirSync(removingDir(dir), { recursive: true });
    const work = join(removingDir(dir), `${Date.now().toString(36).padStart(9, '0')}-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(work);
    const journal: Journal = { version: 1, paths };
    replaceFile(join(work, JOURNAL), `${JSON.stringify(journal)}\n`);
    fsyncPath(join(work, JOURNAL));
    fsyncPath(work);
    fsyncPath(removingDir(dir));
    hooks.onStep?.('removal journal written');
    moveOut(dir, work, journal, hooks.onStep);
    const index = await hooks.reindex();
    rmSync(work, { recursive: true, force: true });
    fsyncPath(removingDir(dir));
    hooks.onStep?.('removed files deleted');
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
