// The inspect stage: hash and read the metadata of every new or changed file on the worker threads, chunk by chunk as the scan lists them.
import { appendAll } from '../../append-all.js';
import { dirOfPath, type FileRecord } from '../store/manifest.js';
import { noteWritten, type IndexRun } from './index-run.js';
import type { InspectOutcome } from './inspect-job.js';
import { planInspection } from './plan.js';
import { scanShards } from './scan-stage.js';

/**
 * Scan the directories of the shards in `loaded` and inspect what the plan says, overlapped: each chunk of
 * directories listed goes to the threads while the scan lists the next. Returns how many files were inspected.
 */
export async function scanAndInspect(run: IndexRun, loaded: ReadonlySet<number>): Promise<number> {
  const inspection = startInspection(run);
  await scanShards(run, loaded, run.scan, inspection.add);
  run.next.sidecars = Object.fromEntries(run.scan.sidecars);
  run.clock(`scan (the stat probe says ${run.isCold ? 'cold' : 'warm'})`);
  return inspection.finish();
}

/** `add` takes each scanned chunk, `finish` waits for the last outcomes, applies them all and returns how many files were inspected. */
function startInspection(run: IndexRun): { add: (part: IndexRun['scan']) => void; finish: () => Promise<number> } {
  const known: InspectOutcome[] = [];
  let jobCount = 0;
  const stream = run.workers.openInspection((done, queued) => {
    if (done % 50 === 0 || done === queued) run.options.onProgress?.({ phase: 'inspect', done, total: queued });
  });
  const add = (part: IndexRun['scan']) => {
    const { taken, jobs } = planInspection(run.dir, part, run.manifest, run.options.inspected);
    appendAll(known, taken);
    jobCount += jobs.length;
    stream.add(jobs);
  };
  const finish = async () => {
    applyOutcomes(run, [...known, ...(await stream.finish())]);
    return jobCount;
  };
  return { add, finish };
}

/** The inspected records into the next manifest (with the scan's trusted ones), their projects' pages to rewrite, the broken files reported. */
function applyOutcomes(run: IndexRun, outcomes: InspectOutcome[]): void {
  // In the scan's order, not the order the threads finished in: the manifest's bytes then depend only on the mirror.
  const order = new Map<string, number>();
  for (const path of run.scan.files.keys()) order.set(path, order.size);
  const rank = (path: string) => order.get(path) ?? order.size;
  outcomes.sort((a, b) => rank(a.path) - rank(b.path));
  for (const outcome of outcomes) {
    const old = run.manifest.files[outcome.path];
    if (old?.project) run.dirtyProjects.add(old.project);
    if (outcome.record === undefined) {
      run.scan.files.delete(outcome.path); // vanished since the scan
      continue;
    }
    run.next.files[outcome.path] = outcome.record;
    if (outcome.record.project) run.dirtyProjects.add(outcome.record.project);
    if (outcome.wroteMetadata) noteWritten(run, dirOfPath(outcome.path), `wrote ${outcome.path}.metadata`);
  }
  for (const [path, record] of run.scan.files) {
    if (record !== undefined && run.next.files[path] === undefined) run.next.files[path] = record;
    const current = run.next.files[path] as FileRecord;
    if (current.problem !== undefined) run.problems.push({ path, message: current.problem });
  }
}
