// Apply one project's plan: check the files in place, download the missing, write the sidecars, delete (--delete).
import { join } from 'node:path';
import type { UpstreamFile } from '../../upstream/simple-model.js';
import { download } from './download.js';
import { hashFile } from './local.js';
import { deleteDistribution, stageSidecars } from '../store/project-files.js';
import { sidecarChanges, type PlannedFile, type ProjectPlan } from './plan.js';
import { fail, type SyncRun } from './sync-run.js';

/** Check, download, write sidecars, delete. True when every wanted file is now in place. */
export async function applyPlan(run: SyncRun, plan: ProjectPlan, sidecars: ReadonlyMap<string, string>): Promise<boolean> {
  const projectDir = join(run.options.dir, plan.project);
  let isComplete = plan.conflicts.length === 0;
  for (const conflict of plan.conflicts)
    fail(run, plan.project, conflict.file.filename, new Error(`${conflict.reason}; not overwritten (move it away to take upstream's)`));
  const inPlace: UpstreamFile[] = plan.present.map((p) => p.file);
  run.result.present += plan.present.length;
  const checked = await Promise.all(plan.checks.map((p) => run.slots.run(() => checkExisting(run, plan.project, p))));
  plan.checks.forEach((p, i) => {
    if (checked[i]) inPlace.push(p.file);
    else isComplete = false;
  });
  run.progress.filesQueued += plan.downloads.length;
  const fetched = await Promise.all(plan.downloads.map((p) => download(run, plan.project, p)));
  plan.downloads.forEach((p, i) => {
    if (fetched[i]) inPlace.push(p.file);
    else isComplete = false;
  });
  const changes = inPlace.flatMap((file) => sidecarChanges(file, sidecars));
  const staged = stageSidecars(projectDir, changes);
  const committed = await Promise.all(
    staged.map((s) =>
      run.writer.place({ temp: s.temp, target: s.target, path: `${plan.project}/${s.name}`, algorithm: 'sha256', digest: s.sha256, isInspected: false }).then(
        () => true,
        (error: unknown) => void fail(run, plan.project, s.name, error),
      ),
    ),
  );
  if (committed.some((ok) => ok !== true)) isComplete = false;
  for (const name of plan.deletes) {
    deleteDistribution(projectDir, name);
    run.result.deleted++;
  }
  if (changes.length > 0 || plan.deletes.length > 0 || plan.downloads.length > 0 || plan.checks.length > 0) run.isChanged = true;
  return isComplete;
}

/** Whether a file already in the mirror has the upstream's hash (else a failure: it is not overwritten). */
export async function checkExisting(run: SyncRun, project: string, planned: PlannedFile): Promise<boolean> {
  const digest = await hashFile(join(run.options.dir, project, planned.file.filename), planned.algorithm);
  if (digest === planned.digest) {
    run.result.present++;
    return true;
  }
  fail(
    run,
    project,
    planned.file.filename,
    new Error(`in the mirror with ${planned.algorithm} ${digest}, upstream has ${planned.digest}; not overwritten (move it away to take upstream's)`),
  );
  return false;
}
