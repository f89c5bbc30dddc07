// Worker thread entry: run batches of the indexer's jobs (inspect files, write pages), answer with their outcomes.
import { parentPort } from 'node:worker_threads';
import { runInspectJob, type InspectJob, type InspectOutcome } from './inspect-job.js';
import { writeProjectPages, type PageJob, type PageOutcome } from './page-writer.js';

export type WorkerRequest = { kind: 'inspect'; jobs: InspectJob[] } | { kind: 'pages'; jobs: PageJob[] };

parentPort?.on('message', async (request: WorkerRequest) => {
  if (request.kind === 'pages') {
    parentPort?.postMessage(request.jobs.map(writeProjectPages) satisfies PageOutcome[]);
    return;
  }
  const outcomes: InspectOutcome[] = [];
  for (const job of request.jobs) outcomes.push(await runInspectJob(job));
  parentPort?.postMessage(outcomes);
});
