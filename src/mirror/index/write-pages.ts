// The write stage: remove what belonged to gone files, write the pages of every changed project (on the worker threads), remove pages of projects with no file left, then the root pages.
import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { renderRootHtml, renderRootJson } from '../../pypi/render-pages.js';
import { dirOfPath } from '../store/manifest.js';
import { buildProjectPage } from './build-pages.js';
import { noteWritten, type IndexRun } from './index-run.js';
import { writePageIfChanged, type PageJob } from './page-writer.js';
import { filesByProject, goneFiles, orphanPages, planRootPages, projectPagesToWrite, projectsOfChangedSidecars, type RootPlan } from './plan.js';

/** Files the manifest knew that are gone: their projects change, their `.metadata` goes; so do the projects of changed sidecars. */
export function removeGoneFiles(run: IndexRun): void {
  const gone = goneFiles(run.scan, run.manifest, (rel) => existsSync(join(run.dir, rel)));
  for (const project of gone.projects) run.dirtyProjects.add(project);
  for (const path of gone.metadata) {
    rmSync(join(run.dir, `${path}.metadata`), { force: true });
    run.removed++;
    run.touchedDirs.add(dirOfPath(path));
  }
  for (const project of projectsOfChangedSidecars(run.manifest, run.next)) run.dirtyProjects.add(project);
}

/** Write every page that changed, project pages first and the root pages last. Returns the root plan (every project, the digest of their pages). */
export async function writePages(run: IndexRun): Promise<RootPlan> {
  const byProject = filesByProject(run.next.files);
  const projects = [...byProject.keys()].sort();
  await writeProjectPages(run, projects, byProject);
  removeOrphanPages(run, byProject);
  const root = planRootPages({
    head: run.head,
    full: run.full,
    loadedProjects: projects,
    isLoaded: (project) => run.shards.has(project),
    isTopTrusted: run.top.some((t) => t.rel === '' && !run.untrusted.has(t.rel)),
    pages: run.next.pages,
    pageCrcs: run.pageCrcs,
  });
  if (root.isWanted) writeRootPages(run, root);
  return root;
}

/** Render and write the pages of every project the plan says (on the worker threads, each page built as a thread is about to need it). */
async function writeProjectPages(run: IndexRun, projects: readonly string[], byProject: ReadonlyMap<string, string[]>): Promise<void> {
  const scanned = new Map(run.scan.dirs.map((d) => [d.rel, d]));
  const todo = projectPagesToWrite(projects, scanned, run.next.pages, run.dirtyProjects, run.full, (project) =>
    existsSync(join(run.dir, project, 'index.html')),
  );
  const makeJob = (i: number): PageJob => {
    const project = todo[i] as string;
    const dirScan = scanned.get(project);
    const page = buildProjectPage(project, byProject.get(project) as string[], run.next.files, run.next.sidecars);
    const job: PageJob = { dir: run.dir, page, previous: run.full ? undefined : run.next.pages[project] };
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
}

/** The pages of projects with no file left go, and their directory when nothing else is in it. */
function removeOrphanPages(run: IndexRun, byProject: ReadonlyMap<string, string[]>): void {
  for (const project of orphanPages(run.next.pages, byProject)) {
    rmSync(join(run.dir, project, 'index.html'), { force: true });
    rmSync(join(run.dir, project, 'index.json'), { force: true });
    delete run.next.pages[project];
    run.removed += 2;
    try {
      rmdirSync(join(run.dir, project));
    } catch {
      run.touchedDirs.add(project);
    }
  }
}

/** The root pages, written last (after every project page): a reader that sees the new digest sees the pages it stands for. */
function writeRootPages(run: IndexRun, root: RootPlan): void {
  const previous = run.next.pages[''];
  const html = writeIfChanged(run, join(run.dir, 'index.html'), renderRootHtml(root.projects), previous?.html);
  const json = writeIfChanged(run, join(run.dir, 'index.json'), renderRootJson(root.projects, root.digest), previous?.json);
  run.next.pages[''] = { html, json };
  run.touchedDirs.add('');
}

function writeIfChanged(run: IndexRun, target: string, text: string, previousCrc: string | undefined): string {
  const { crc, isWritten } = writePageIfChanged(target, text, previousCrc);
  if (isWritten) noteWritten(run, undefined, `wrote ${target}`);
  return crc;
}
