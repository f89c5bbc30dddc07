// `startServer`: the whole server from its options. It brings the index up to date, then serves in
// this process, or, with several workers, forks the serving processes (node:cluster) and answers
// /metrics for all of them; a serving process of the cluster runs this same function.
import type { RunningServer, ServerOptions, ServerOutput } from './options.js';

export type { RunningServer, ServerOptions, ServerOutput, ServerStop } from './options.js';

export async function startServer(options: ServerOptions, output: ServerOutput): Promise<RunningServer> {
  if (options.workers === 1) {
    if (options.isIndexedAtStart) await indexAtStart(options.dir, output);
    return (await import('./serve-process.js')).serveInThisProcess(options, output, true);
  }
  const { isClusterWorker, leaveCluster, runPrimary } = await import('./cluster.js');
  if (!isClusterWorker()) {
    if (options.isIndexedAtStart) await indexAtStart(options.dir, output);
    (await import('./metrics-cluster.js')).answerMetricsForWorkers();
    const stopped = runPrimary({
      workers: options.workers,
      onListening: (port) => output.onListening({ port, processes: options.workers }),
      log: (line) => output.log(line),
      forwardHangup: options.tls !== undefined || options.access !== undefined,
    });
    return { stopped };
  }
  // A serving process of the cluster: the primary has indexed DIR and speaks for the server. Once
  // stopped, or when it cannot listen, it lets go of its channel to the primary, which would keep it alive.
  try {
    const running = await (await import('./serve-process.js')).serveInThisProcess(options, output, false);
    return { stopped: running.stopped.finally(leaveCluster) };
  } catch (error) {
    leaveCluster();
    throw error;
  }
}

/** Bring the index up to date (incremental: cheap when nothing changed); a read-only mirror is served as it is. */
async function indexAtStart(dir: string, output: ServerOutput): Promise<void> {
  const { indexMirror } = await import('../mirror/index/index-mirror.js');
  try {
    const result = await indexMirror({ dir, onProgress: (progress) => output.indexProgress?.update(progress) });
    output.indexProgress?.clear();
    for (const problem of result.problems) output.log(`warning: broken file not served: ${problem.path}: ${problem.message}`);
  } catch (error) {
    output.indexProgress?.clear();
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw error;
    output.log(`warning: ${dir} is read-only (${code}): serving its index as it is, without re-indexing`);
  }
}
