// One serving process: the app with its page cache, the pull-through cache, the upload API, the
// access log, metrics, /health and the connection guard, listening until SIGINT or SIGTERM.
import { join } from 'node:path';
import { createApp } from './app.js';
import { HealthCheck } from './health.js';
import { listen } from './listen.js';
import { Metrics } from './metrics.js';
import { MetricsSource } from './metrics-cluster.js';
import { observeConnections, observeRequest } from './observe.js';
import { createUiHandler } from './ui-pages.js';
import type { ProxySettings, RunningServer, ServerOptions, ServerOutput, ServerStop, UploadSettings } from './options.js';
import type { ReindexQueue } from '../mirror/store/reindex-queue.js';
import type { IndexResult } from '../mirror/index/types.js';

/** Runs until SIGINT/SIGTERM; `isAnnounced`: this process speaks for the server (not one of a cluster's). */
export async function serveInThisProcess(options: ServerOptions, output: ServerOutput, isAnnounced: boolean): Promise<RunningServer> {
  const { dir } = options;
  const metrics = new Metrics();
  const reindex = sharedReindexQueue(dir);
  const proxy =
    options.proxy === undefined
      ? undefined
      : await createProxy(
          options.proxy,
          dir,
          reindex,
          output,
          (path) => app.cache.invalidate(path),
          (kind, seconds, isOk) => {
            metrics.add('dib_pypi_upstream_requests_total', { kind, outcome: isOk ? 'ok' : 'error' });
            if (!isOk) metrics.add('dib_pypi_upstream_errors_total', { kind });
            metrics.observe('dib_pypi_upstream_request_duration_seconds', { kind }, seconds);
          },
        );
  const log = options.accessLog === undefined ? undefined : { write: (line: string) => output.accessLine(line), format: options.accessLog };
  const observer = { metrics, log, isCache: proxy !== undefined };
  const health = new HealthCheck({
    dir,
    isWriting: proxy !== undefined || options.uploads !== undefined,
    proxy: proxy === undefined ? undefined : () => proxy.status(),
  });
  const source = new MetricsSource(metrics);
  const app = createApp({
    dir,
    cacheBytes: options.cacheBytes,
    fallback: proxy,
    observe: (req, res) => observeRequest(observer, req, res),
    health: () => health.answer(),
    metrics: () => source.text(),
    limits: options.limits,
  });
  observeConnections(app.server, metrics);
  app.ui = createUiHandler({
    dir,
    cache: app.cache,
    preparePage: proxy === undefined ? undefined : (project) => proxy.preparePage(project),
    health: () => health.answer(),
    metrics: () => source.read(),
    version: options.version,
    isCache: proxy !== undefined,
    hasUploads: options.uploads !== undefined,
  });
  if (options.uploads !== undefined) {
    app.upload = await createUploads(options.uploads, dir, reindex, output, (project) => {
      for (const page of ['index.html', 'index.json']) {
        app.cache.invalidate(join(dir, page));
        app.cache.invalidate(join(dir, project, page));
      }
      proxy?.localFilesChanged(project);
    });
  }
  await listen(app.server, options.host, options.port);
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  if (isAnnounced) output.onListening({ port, processes: 1 });
  const stopped = new Promise<ServerStop>((done) => {
    const stop = (signal: 'SIGINT' | 'SIGTERM') => {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      app.server.close(() => void (proxy?.close() ?? Promise.resolve()).finally(() => done({ signal })));
      app.server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return { stopped };
}

/**
 * One re-index queue for the files the cache stores and for uploads (one run at a time, shared by
 * those waiting), loaded only when one of them is enabled.
 */
function sharedReindexQueue(dir: string): () => Promise<ReindexQueue<IndexResult>> {
  let queue: Promise<ReindexQueue<IndexResult>> | undefined;
  return () =>
    (queue ??= Promise.all([import('../mirror/store/reindex-queue.js'), import('../mirror/index/index-mirror.js')]).then(
      ([{ ReindexQueue }, { indexMirror }]) => new ReindexQueue(() => indexMirror({ dir })),
    ));
}

/** The pull-through cache: stored files are indexed by the shared queue. */
async function createProxy(
  settings: ProxySettings,
  dir: string,
  reindexQueue: () => Promise<ReindexQueue<IndexResult>>,
  output: ServerOutput,
  onPageWritten: (path: string) => void,
  onUpstreamRequest: (kind: 'page' | 'file', seconds: number, isOk: boolean) => void,
) {
  const { PullThroughCache } = await import('./proxy.js');
  const queue = await reindexQueue();
  return new PullThroughCache({
    ...settings,
    dir,
    onStored: () => {
      queue
        .request()
        .catch((error: unknown) => output.log(`warning: re-index after a download failed: ${error instanceof Error ? error.message : String(error)}`));
    },
    onPageWritten,
    log: (line) => output.log(line),
    onUpstreamRequest,
  });
}

/** The upload API: a stored file is indexed by the shared queue before the upload is answered. */
async function createUploads(
  settings: UploadSettings,
  dir: string,
  reindexQueue: () => Promise<ReindexQueue<IndexResult>>,
  output: ServerOutput,
  onIndexed: (project: string) => void,
) {
  const [{ Authenticator }, { UploadThreads }, { createUploadHandler }, { LoginLimiter }] = await Promise.all([
    import('./credentials.js'),
    import('./upload-threads.js'),
    import('./upload.js'),
    import('./login-limiter.js'),
  ]);
  const queue = await reindexQueue();
  const threads = new UploadThreads();
  return createUploadHandler({
    dir,
    threads,
    auth: new Authenticator(settings.credentials, threads),
    allowOverwrite: settings.allowOverwrite,
    maxBytes: settings.maxBytes,
    limiter: new LoginLimiter({ maxFailures: settings.maxLoginFailures }),
    onStored: async (project) => {
      const result = await queue.request();
      for (const problem of result.problems) output.log(`warning: broken file not served: ${problem.path}: ${problem.message}`);
      onIndexed(project);
    },
    log: (line) => output.log(line),
  });
}
