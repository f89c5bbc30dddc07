// One serving process: the app with its page cache, the pull-through cache, the upload API, the
// access log, metrics, /health and the connection guard, listening until SIGINT or SIGTERM.
import { join } from 'node:path';
import { createApp } from './app.js';
import type { CacheAdmin } from './cache-admin.js';
import { changeRights } from './may-change.js';
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
  const cache =
    options.proxy === undefined
      ? undefined
      : await createProxy(
          options.proxy,
          dir,
          reindex,
          output,
          (path) => app.cache.invalidate(path),
          (files) => {
            // The files leave the in-memory cache at once; the pages once the re-index has dropped them.
            for (const { project, filename } of files) for (const name of [filename, `${filename}.metadata`]) app.cache.invalidate(join(dir, project, name));
            metrics.add('dib_pypi_cache_evictions_total', {}, files.length);
          },
          (projects) => {
            for (const project of projects) {
              for (const page of ['index.html', 'index.json']) {
                app.cache.invalidate(join(dir, page));
                app.cache.invalidate(join(dir, project, page));
              }
              cache?.proxy.localFilesChanged(project);
            }
          },
          (kind, seconds, isOk) => {
            metrics.add('dib_pypi_upstream_requests_total', { kind, outcome: isOk ? 'ok' : 'error' });
            if (!isOk) metrics.add('dib_pypi_upstream_errors_total', { kind });
            metrics.observe('dib_pypi_upstream_request_duration_seconds', { kind }, seconds);
          },
        );
  const proxy = cache?.proxy;
  const log = options.accessLog === undefined ? undefined : { write: (line: string) => output.accessLine(line), format: options.accessLog };
  const observer = { metrics, log, isCache: proxy !== undefined };
  const health = new HealthCheck({
    dir,
    isWriting: proxy !== undefined || options.uploads !== undefined,
    proxy: proxy === undefined ? undefined : () => proxy.status(),
  });
  const source = new MetricsSource(metrics);
  const eventLog = (line: string) => output.log(line);
  const guard = options.access === undefined ? undefined : (await import('./read-auth.js')).createAccessGuard(options.access, eventLog);
  const tls = options.tls === undefined ? undefined : await import('./tls.js');
  const app = createApp({
    dir,
    cacheBytes: options.cacheBytes,
    fallback: proxy,
    observe: (req, res) => observeRequest(observer, req, res),
    health: () => health.answer(),
    metrics: () => source.text(),
    limits: options.limits,
    guard: guard?.admit,
    server: options.tls === undefined ? undefined : tls?.createHttpsServer(tls.readTlsPair(options.tls)),
  });
  observeConnections(app.server, metrics);
  cache?.eviction.enforce();
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
    app.upload = await createUploads(
      options.uploads,
      dir,
      reindex,
      output,
      (project, paths = []) => {
        for (const page of ['index.html', 'index.json']) {
          app.cache.invalidate(join(dir, page));
          app.cache.invalidate(join(dir, project, page));
        }
        for (const path of paths) app.cache.invalidate(join(dir, path));
        cache?.eviction.forget(paths);
        proxy?.localFilesChanged(project);
      },
      cache === undefined ? undefined : { invalidate: (project) => cache.proxy.invalidate(project), stats: () => cache.eviction.stats() },
    );
  }
  await listen(app.server, options.host, options.port);
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  if (isAnnounced) output.onListening({ port, processes: 1 });
  // SIGHUP: the certificate and the htpasswd files are read again (for new connections; open ones keep theirs).
  const onHangup = () => {
    if (options.tls !== undefined) tls?.reloadTls(app.server, options.tls, eventLog);
    void guard?.reload();
  };
  if (guard !== undefined || tls !== undefined) process.on('SIGHUP', onHangup);
  const stopped = new Promise<ServerStop>((done) => {
    const stop = (signal: 'SIGINT' | 'SIGTERM') => {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      process.off('SIGHUP', onHangup);
      app.server.close(() => void Promise.all([proxy?.close(), guard?.close()]).finally(() => done({ signal })));
      app.server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return { stopped };
}

/**
 * One re-index queue for the files the cache stores, for uploads and changes (one run at a time, in a
 * worker thread, shared by
 * those waiting), loaded only when one of them is enabled.
 */
function sharedReindexQueue(dir: string): () => Promise<ReindexQueue<IndexResult>> {
  let queue: Promise<ReindexQueue<IndexResult>> | undefined;
  return () =>
    (queue ??= Promise.all([import('../mirror/store/reindex-queue.js'), import('./index-in-thread.js')]).then(([{ ReindexQueue }, { IndexInThread }]) => {
      const thread = new IndexInThread(dir);
      return new ReindexQueue(() => thread.run());
    }));
}

/** The pull-through cache: stored files are indexed by the shared queue. */
async function createProxy(
  settings: ProxySettings,
  dir: string,
  reindexQueue: () => Promise<ReindexQueue<IndexResult>>,
  output: ServerOutput,
  onPageWritten: (path: string) => void,
  onEvicted: (files: readonly { project: string; filename: string }[]) => void,
  onEvictionIndexed: (projects: readonly string[]) => void,
  onUpstreamRequest: (kind: 'page' | 'file', seconds: number, isOk: boolean) => void,
) {
  const [{ PullThroughCache }, { CacheEviction }] = await Promise.all([import('./proxy.js'), import('./cache-eviction.js')]);
  const queue = await reindexQueue();
  const reindex = () =>
    queue.request().catch((error: unknown) => {
      output.log(`warning: re-index after a download or an eviction failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    });
  const eviction = new CacheEviction({
    dir,
    ...(settings.maxCacheBytes === undefined ? {} : { maxBytes: settings.maxCacheBytes }),
    log: (line) => output.log(line),
    onEvicted: (files) => {
      onEvicted(files);
      const projects = [...new Set(files.map((f) => f.project))];
      void reindex().then(() => onEvictionIndexed(projects));
    },
  });
  const proxy = new PullThroughCache({
    ...settings,
    dir,
    onStored: (project, filename) => {
      eviction.stored(project, filename);
      void reindex();
    },
    onServed: (project, filename) => eviction.served(project, filename),
    onPageWritten,
    log: (line) => output.log(line),
    onUpstreamRequest,
  });
  return { proxy, eviction };
}

/** The upload API: a stored file is indexed by the shared queue before the upload is answered. */
async function createUploads(
  settings: UploadSettings,
  dir: string,
  reindexQueue: () => Promise<ReindexQueue<IndexResult>>,
  output: ServerOutput,
  onIndexed: (project: string, paths?: readonly string[]) => void,
  cache: CacheAdmin | undefined,
) {
  const [{ Authenticator }, { UploadThreads }, { authenticate, createUploadHandler }, { LoginLimiter }, changeApi] = await Promise.all([
    import('./credentials.js'),
    import('./upload-threads.js'),
    import('./upload.js'),
    import('./login-limiter.js'),
    import('./change-setup.js'),
  ]);
  const queue = await reindexQueue();
  const threads = new UploadThreads();
  const auth = new Authenticator(settings.credentials, threads);
  const limiter = new LoginLimiter({ maxFailures: settings.maxLoginFailures });
  const rights =
    settings.acl === undefined ? undefined : new (await import('./upload-rights.js')).UploadRights(dir, settings.acl.rules, settings.acl.trustedUids);
  const changes = changeApi.setUpChanges({ dir, queue, onIndexed, log: (line) => output.log(line), mayChange: changeRights(rights), cache });
  const upload = createUploadHandler({
    dir,
    threads,
    auth,
    allowOverwrite: settings.allowOverwrite,
    maxBytes: settings.maxBytes,
    limiter,
    rights,
    onFormAction: changes.onFormAction,
    onStored: async (project) => {
      const result = await queue.request();
      for (const problem of result.problems) output.log(`warning: broken file not served: ${problem.path}: ${problem.message}`);
      onIndexed(project);
    },
    log: (line) => output.log(line),
  });
  return changes.routeWrites(upload, (req, res) => authenticate(req, res, { auth, log: (line) => output.log(line) }, limiter));
}
