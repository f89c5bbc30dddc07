// `dib-pypi mirror cache DIR [--invalidate PROJECT]...`: the pull-through cache's figures; kept pages made stale.
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { readReceipts } from '../mirror/store/cache-receipts.js';
import { invalidateListing, keptProjects, readListing } from '../mirror/store/upstream-pages.js';
import { isValidProjectName, normalizeProjectName } from '../pypi/project-name.js';
import { UsageError } from '../errors.js';
import type { MirrorCacheOptions } from './commands/mirror-cache.js';
import { printJson, printLine } from './output.js';

export async function runMirrorCache(flags: MirrorCacheOptions): Promise<void> {
  const dir = resolve(flags.positionals[0] as string);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${dir}`, 'mirror cache');
  const projects = flags.invalidate.map((name) => {
    if (!isValidProjectName(name)) throw new UsageError(`not a project name: ${JSON.stringify(name)}`, '--invalidate');
    return normalizeProjectName(name);
  });
  const invalidated: string[] = [];
  const notKept: string[] = [];
  for (const project of projects) (invalidateListing(dir, project) ? invalidated : notKept).push(project);

  const receipts = readReceipts(dir, { prune: false });
  const kept = keptProjects(dir);
  const fetchedAt = kept.map((project) => readListing(dir, project)?.fetchedAt ?? 0);
  const fetched = fetchedAt.filter((at) => at > 0);
  const figures = {
    dir,
    files: receipts.length,
    bytes: receipts.reduce((sum, r) => sum + r.bytes, 0),
    projectsWithFiles: new Set(receipts.map((r) => r.project)).size,
    keptPages: kept.length,
    /** Made stale by --invalidate (now or before) and not fetched since. */
    stalePages: fetchedAt.length - fetched.length,
    oldestFetch: fetched.length === 0 ? null : new Date(fetched.reduce((a, b) => Math.min(a, b))).toISOString(),
    newestFetch: fetched.length === 0 ? null : new Date(fetched.reduce((a, b) => Math.max(a, b))).toISOString(),
    invalidated,
    notKept,
  };
  if (flags.json) printJson(figures);
  else {
    for (const project of invalidated) printLine(`${project}: kept page made stale; fetched from upstream on its next request`);
    for (const project of notKept) printLine(`${project}: no kept upstream page in ${dir}`);
    printLine(
      `${dir}: ${figures.files} downloaded file(s), ${(figures.bytes / 1e6).toFixed(1)} MB in ${figures.projectsWithFiles} project(s); ${figures.keptPages} kept upstream page(s)${figures.stalePages === 0 ? '' : ` (${figures.stalePages} made stale)`}${figures.oldestFetch === null ? '' : `, fetched ${figures.oldestFetch} to ${figures.newestFetch}`}`,
    );
  }
  if (notKept.length > 0) process.exitCode = 1;
}
