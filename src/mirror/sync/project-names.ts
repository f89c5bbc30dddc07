// Which projects a sync takes: those named, or every one on the upstream's root page (unless its mark says nothing changed), the excluded ones dropped.
import { InputError } from '../../errors.js';
import { isValidProjectName, normalizeProjectName } from '../../pypi/project-name.js';
import { isProjectExcluded } from './filters.js';
import type { SyncRun } from './sync-run.js';

/** --project / --requirements names, else every project on the root page; excluded names dropped. 'unchanged': the root's serial or pages digest says nothing changed. */
export async function projectNames(run: SyncRun): Promise<string[] | 'unchanged'> {
  let names = run.options.projects;
  if (names.length === 0) {
    const root = await run.client.fetchRoot();
    const mark =
      root.kind !== 'page'
        ? undefined
        : root.lastSerial !== undefined
          ? `serial ${root.lastSerial}`
          : root.page.pagesDigest !== undefined
            ? `pages ${root.page.pagesDigest}`
            : undefined;
    if (mark !== undefined) {
      if (mark === run.state.rootMark && run.state.isIndexed && !run.options.isDryRun) return 'unchanged';
      run.rootMark = mark;
    }
    if (root.kind === 'missing') throw new InputError('upstream', `no simple index at ${run.client.upstream.display} (HTTP ${root.status})`);
    if (root.kind !== 'page') throw new Error('unreachable: unconditional request answered 304');
    for (const problem of root.page.problems) run.events.onLog?.(`root page: ${problem}`);
    run.rootProjectCount = root.page.projects.length;
    // A name becomes a directory: only PEP 508 names (no `/`, no leading dots) are taken.
    names = root.page.projects.filter(
      (name) => isValidProjectName(name) || void run.events.onLog?.(`root page: skipped ${JSON.stringify(name)}: not a project name`),
    );
    run.result.skipped += root.page.projects.length - names.length;
  }
  const unique = [...new Map(names.map((n) => [normalizeProjectName(n), n])).values()];
  const kept = unique.filter((n) => !isProjectExcluded(n, run.options.filters));
  run.result.skipped += unique.length - kept.length;
  return kept;
}
