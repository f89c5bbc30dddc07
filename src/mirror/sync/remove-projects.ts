// --delete over the whole upstream: the mirror's projects the upstream no longer lists (or the filters exclude) go.
import { normalizeProjectName } from '../../pypi/project-name.js';
import { hasDistributions, mirrorProjectDirs } from './local.js';
import { removeProject } from '../store/project-files.js';
import { fail, type SyncRun } from './sync-run.js';

/**
 * --delete while syncing every project: remove the mirror's project directories that are not among `names` (the
 * root page's projects the filters keep). A root page that lists no project at all removes nothing (an upstream
 * that answers with an empty index by mistake must not empty the mirror).
 */
export function removeVanishedProjects(run: SyncRun, names: readonly string[]): void {
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
