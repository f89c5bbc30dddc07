// One project: its upstream page fetched (or found unchanged), filtered (and without what mirror remove recorded), planned against the mirror (plan.ts), applied.
import { existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeProjectName } from '../../pypi/project-name.js';
import { isRemovedFile, readRemovalRecord } from '../store/removal-record.js';
import { applyPlan, checkExisting } from './apply-plan.js';
import { emptyReason, filterProjectFiles } from './filters.js';
import { readProjectState } from './local.js';
import { planProject } from './plan.js';
import { fail, type SyncRun } from './sync-run.js';

/** Fetch one project's page (unless unchanged), plan it against the mirror, and apply the plan (or, in a dry run, report it). */
export async function syncProject(run: SyncRun, name: string): Promise<void> {
  const project = normalizeProjectName(name);
  const record = run.state.projects[project];
  delete run.next.projects[project]; // until this project is complete again
  delete run.next.rootMark;
  const outcome = await run.slots.run(() => run.client.fetchProject(name, run.options.isDryRun ? undefined : record));
  if (outcome.kind === 'missing') throw new Error(`not on the upstream (HTTP ${outcome.status} for ${run.client.projectUrl(name)})`);
  if (outcome.kind === 'not-modified') {
    run.result.unchanged++;
    run.next.projects[project] = { ...record, ...outcome.validators };
    return;
  }
  for (const problem of outcome.page.problems) run.events.onLog?.(`${project}: skipped upstream entry: ${problem}`);
  const filtered = filterProjectFiles(project, outcome.page.files, run.options.filters);
  // What mirror remove took out (DIR/.dib-pypi/removed/) is not fetched back.
  const removal = readRemovalRecord(run.options.dir, project);
  const kept = filtered.kept.filter((f) => !isRemovedFile(removal, f.file.filename));
  run.result.skipped += filtered.skipped.length + outcome.page.problems.length + filtered.kept.length - kept.length;
  const projectDir = join(run.options.dir, project);
  const isNewDir = !existsSync(projectDir);
  if (kept.length === 0 && isNewDir) {
    // Nothing to put in it: no directory, and the project is reported, not counted as synced.
    run.result.skippedProjects.push({ project, reason: filtered.kept.length > 0 ? 'removed by mirror remove' : emptyReason(filtered) });
    if (!run.options.isDryRun)
      run.next.projects[project] = { ...outcome.validators, ...(outcome.lastSerial === undefined ? {} : { lastSerial: outcome.lastSerial }) };
    return;
  }
  const local = readProjectState(run.options.dir, project, run.manifest(), run.options.isDryRun);
  const plan = planProject(local, kept, run.options.isDelete);
  run.result.skipped += plan.unverifiable.length;
  for (const file of plan.unverifiable) run.events.onLog?.(`${project}/${file.filename}: skipped, upstream gives no sha-2 hash to verify it by`);
  if (run.options.isDryRun) {
    // What the real run would report as failed, found without writing: conflicts, and files whose bytes differ.
    for (const conflict of plan.conflicts)
      fail(run, project, conflict.file.filename, new Error(`${conflict.reason}; not overwritten (move it away to take upstream's)`));
    await Promise.all(plan.checks.map((p) => run.slots.run(() => checkExisting(run, project, p))));
    for (const p of plan.downloads)
      run.result.wouldDownload?.push({ project, filename: p.file.filename, ...(p.file.size === undefined ? {} : { size: p.file.size }) });
    return;
  }
  const isComplete = await applyPlan(run, plan, local.sidecars);
  if (isNewDir) removeIfEmpty(projectDir);
  if (isComplete) run.next.projects[project] = { ...outcome.validators, ...(outcome.lastSerial === undefined ? {} : { lastSerial: outcome.lastSerial }) };
}

/** A project directory this run made and could fill with nothing (every download failed): not left behind. */
function removeIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}
