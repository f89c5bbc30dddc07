// Worker thread entry: run batches of the indexer's jobs (inspect files, write pages, record directories), answer with their outcomes.
import { parentPort } from 'node:worker_threads';
import { runInspectJob, type InspectJob, type InspectOutcome } from './inspect-job.js';
import { writeProjectPages, type PageJob, type PageOutcome } from './page-writer.js';
import { recordDirectories, type RecordJob, type RecordOutcome } from './record-dirs.js';

export type WorkerRequest = { kind: 'inspect'; jobs: InspectJob[] } | { kind: 'pages'; jobs: PageJob[] } | { kind: 'record'; jobs: RecordJob[] };

parentPort?.on('message', async (request: WorkerRequest) => {
  if (request.kind === 'record') {
    parentPort?.postMessage(recordDirectories(request.jobs) satisfies RecordOutcome[]);
    return;
  }
  if (request.kind === 'pages') {
    parentPort?.postMessage(request.jobs.map(writeProjectPages) satisfies PageOutcome[]);
    return;
  }
  const outcomes: InspectOutcome[] = [];
  for (const job of request.jobs) outcomes.push(await runInspectJob(job));
  parentPort?.postMessage(outcomes);
});
