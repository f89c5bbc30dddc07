// `dib-pypi serve [DIR]`: serve a mirror over HTTP (PEP 503 + 691), or print an nginx configuration for it.
import { layeredServeFlags, renderSettings } from './serve-settings.js';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { DibPypiError, UsageError } from '../errors.js';
import { defaultMirror } from '../targets/mirror-location.js';
import { printLine } from './output.js';
import { redact } from '../redact.js';
import { createStatusLine } from './status-line.js';
import { parseSize } from '../mirror/sync/options.js';
import type { ReindexQueue } from '../mirror/store/reindex-queue.js';
import type { IndexResult } from '../mirror/index/types.js';
import type { LogFormat } from '../server/access-log.js';
import type { ServeCommandLine, ServeFlags } from './commands/serve-options.js';

export const DEFAULT_PORT = 8080;

/** `--port`: 0..65535 (0 picks a free port). */
export function parsePort(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PORT;
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`expected a port number 0-65535, got ${JSON.stringify(raw)}`, '--port');
  return Number(raw);
}

/** A positive number of seconds (fractions allowed). */
export function parseSeconds(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !(value > 0) || value > 31_536_000) throw new UsageError(`expected a number of seconds above 0, got ${JSON.stringify(raw)}`, flag);
  return value;
}

/** A positive whole number of MiB. */
export function parseMegabytes(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) === 0) throw new UsageError(`expected a whole number of MiB (1 or more), got ${JSON.stringify(raw)}`, flag);
  return Number(raw);
}

/** Descriptors kept for what is not a connection (files being served or received, the cache, threads). */
const RESERVED_FDS = 128;

/** The soft limit on open files of this process (Linux /proc), or undefined when unknown. */
function openFilesLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match === null || match[1] === 'unlimited' ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * `--max-connections N` (default 1024): open connections per serving process; past it the longest
 * idle one is closed. Never more than the open-files limit allows (less a reserve), or accept()
 * would fail with EMFILE and drop new connections, the well-behaved ones too.
 */
export function parseMaxConnections(raw: string | undefined, fdLimit: number | undefined): { max: number; lowered?: string } {
  if (raw !== undefined && (!/^\d{1,7}$/.test(raw) || Number(raw) < 1)) throw new UsageError(`expected a number of connections (1 or more), got ${JSON.stringify(raw)}`, '--max-connections');
  const wanted = raw === undefined ? 1024 : Number(raw);
  if (fdLimit === undefined || wanted <= fdLimit - RESERVED_FDS) return { max: wanted };
  const max = Math.max(16, fdLimit - RESERVED_FDS);
  return { max, lowered: `${wanted} connections need more open files than this process may have (ulimit -n ${fdLimit}): at most ${max}` };
}

/** `--max-login-failures N`: failed logins a client may have per minute before 429 (default 10; 0: no limit). */
export function parseLoginFailures(raw: string | undefined): number {
  if (raw === undefined) return 10;
  if (!/^\d{1,6}$/.test(raw)) throw new UsageError(`expected a number of failed logins (0: no limit), got ${JSON.stringify(raw)}`, '--max-login-failures');
  return Number(raw) === 0 ? Infinity : Number(raw);
}

/**
 * Defaults of --max-page-size and --max-file-size. The biggest simple pages (projects with
 * thousands of files) are some MB of JSON, and a page is read into memory: 64 MiB leaves room and
 * bounds the memory. PyPI takes files up to 100 MB by default and grants more per project; its
 * biggest wheels (CUDA libraries, torch) stay under 1 GiB. An index with bigger files needs the flag.
 */
export const DEFAULT_MAX_PAGE_BYTES = 64 * 1024 ** 2;
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

/** A size limit in bytes (`500000`, `512M`, `1G`, `64MiB`: parseSize's units), above 0. */
export function parseByteLimit(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const bytes = parseSize(raw, flag);
  if (!(bytes > 0) || !Number.isSafeInteger(bytes)) throw new UsageError(`expected a size above 0, such as 512M or 1G, got ${JSON.stringify(raw)}`, flag);
  return bytes;
}

/** At most this many serving processes by default (each holds its own --cache-mb of pages). */
const MAX_AUTO_WORKERS = 4;

/**
 * `--workers N|auto`: how many processes serve. auto (the default) is one per core, at most
 * MAX_AUTO_WORKERS, for a plain mirror; the pull-through cache and uploads need one owner for their
 * downloads and re-index runs, so they run in one process (and say so when asked for more).
 */
export function parseWorkers(raw: string | undefined, singleProcessReason: string | undefined, cores: number): number {
  if (raw !== undefined && raw !== 'auto' && (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > 64)) {
    throw new UsageError(`expected auto or a number of processes 1-64, got ${JSON.stringify(raw)}`, '--workers');
  }
  if (singleProcessReason !== undefined) {
    if (raw !== undefined && raw !== 'auto' && Number(raw) > 1) throw new UsageError(`${singleProcessReason} runs in one process`, '--workers');
    return 1;
  }
  if (raw === undefined || raw === 'auto') return Math.max(1, Math.min(cores, MAX_AUTO_WORKERS));
  return Number(raw);
}

/** `--log-format combined|json` (default combined), only with --access-log. */
export function parseLogFormat(raw: string | undefined, isAccessLog: boolean): LogFormat {
  if (raw === undefined) return 'combined';
  if (!isAccessLog) throw new UsageError('only with --access-log', '--log-format');
  if (raw !== 'combined' && raw !== 'json') throw new UsageError(`expected combined or json, got ${JSON.stringify(raw)}`, '--log-format');
  return raw;
}

/** An error, warning or event line of the server on stderr: an ISO 8601 timestamp first, redacted, one write per line. */
function logEvent(line: string): void {
  process.stderr.write(`${new Date().toISOString()} dib-pypi serve: ${redact(line)}\n`);
}

function warn(line: string): void {
  logEvent(`warning: ${line}`);
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function runServe(commandLine: ServeCommandLine): Promise<void> {
  const flags = layeredServeFlags(commandLine, process.env);
  if (flags.printConfig === true) {
    process.stdout.write(renderSettings(flags.settings, process.env));
    return;
  }
  const dir = resolve(flags.positionals[0] ?? defaultMirror(process.env));
  const host = flags.host ?? '127.0.0.1';
  const port = parsePort(flags.port);
  const cacheMb = parseMegabytes(flags.cacheMb, '--cache-mb', 64);
  parseLogFormat(flags.logFormat, flags.accessLog === true);
  if (flags.nginxConf === true) {
    const { renderNginxConf, renderNginxSite } = await import('../server/nginx-conf.js');
    const listen = `${urlHost(host)}:${port === 0 ? DEFAULT_PORT : port}`;
    const prefix = flags.nginxPrefix;
    process.stdout.write(prefix === undefined ? renderNginxSite({ root: dir, listen }) : renderNginxConf({ root: dir, host: urlHost(host), port: port === 0 ? DEFAULT_PORT : port, dir: resolve(prefix), workers: 'auto' }));
    return;
  }
  if (flags.nginxPrefix !== undefined) throw new UsageError('only with --nginx-conf', '--nginx-prefix');
  // A pull-through cache may start empty: its directory is made; a plain mirror must exist.
  if (!existsSync(dir) && (flags.upstream ?? []).length > 0) mkdirSync(dir, { recursive: true });
  if (!existsSync(dir)) throw new UsageError(`no such directory: ${JSON.stringify(dir)} (make a mirror with dib-pypi mirror add or mirror sync)`, 'DIR');
  if (!statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${JSON.stringify(dir)}`, 'DIR');
  const singleProcessReason = (flags.upstream ?? []).length > 0 ? 'the pull-through cache (--upstream)' : uploadsEnabled(flags) ? 'serving with uploads' : undefined;
  const workers = parseWorkers(flags.workers, singleProcessReason, availableParallelism());
  if (workers > 1) {
    const { isClusterWorker, leaveCluster, runPrimary } = await import('../server/cluster.js');
    if (!isClusterWorker()) {
      // Every flag is checked here, once, before any process is forked (these set up nothing for a plain mirror).
      await setUpProxy(flags, dir, sharedReindexQueue(dir), () => undefined);
      await setUpUploads(flags, dir, sharedReindexQueue(dir), () => undefined, logEvent);
      if (flags.noIndex !== true) await indexAtStart(dir);
      (await import('../server/metrics-cluster.js')).answerMetricsForWorkers();
      process.exitCode = await runPrimary({
        workers,
        onListening: (bound) => printLine(`dib-pypi serve: ${dir} at http://${urlHost(host)}:${bound}/ (also /simple/), ${workers} processes; Ctrl-C stops`),
        log: logEvent,
      });
      return;
    }
    // A serving process of the cluster: the primary has indexed DIR and prints the URL. Once stopped,
    // or when it cannot listen, it lets go of its channel to the primary, which would keep it alive.
    try {
      return await serveInThisProcess(flags, dir, host, port, cacheMb, false);
    } finally {
      leaveCluster();
    }
  }
  if (flags.noIndex !== true) await indexAtStart(dir);
  return serveInThisProcess(flags, dir, host, port, cacheMb, true);
}

async function serveInThisProcess(flags: ServeFlags, dir: string, host: string, port: number, cacheMb: number, announce: boolean): Promise<void> {
  const [{ createApp }, { Metrics }, { MetricsSource }, { observeConnections, observeRequest }, { HealthCheck }] = await Promise.all([
    import('../server/app.js'),
    import('../server/metrics.js'),
    import('../server/metrics-cluster.js'),
    import('../server/observe.js'),
    import('../server/health.js'),
  ]);
  const metrics = new Metrics();
  const reindex = sharedReindexQueue(dir);
  const proxy = await setUpProxy(flags, dir, reindex, (path) => app.cache.invalidate(path), (kind, seconds, isOk) => {
    metrics.add('dib_pypi_upstream_requests_total', { kind, outcome: isOk ? 'ok' : 'error' });
    if (!isOk) metrics.add('dib_pypi_upstream_errors_total', { kind });
    metrics.observe('dib_pypi_upstream_request_duration_seconds', { kind }, seconds);
  });
  // Each line is one write: serving processes share stdout, and a line must not be cut by another's.
  const log = flags.accessLog === true ? { write: (line: string) => void process.stdout.write(`${line}\n`), format: parseLogFormat(flags.logFormat, true) } : undefined;
  const observer = { metrics, log, isCache: proxy !== undefined };
  const connections = parseMaxConnections(flags.maxConnections, openFilesLimit());
  if (connections.lowered !== undefined && announce) warn(`--max-connections: ${connections.lowered}`);
  const limits = { maxConnections: connections.max, headersTimeoutMs: parseSeconds(flags.headersTimeout, '--headers-timeout', 10) * 1000 };
  const health = new HealthCheck({ dir, isWriting: proxy !== undefined || uploadsEnabled(flags), proxy: proxy === undefined ? undefined : () => proxy.status() });
  const source = new MetricsSource(metrics);
  const app = createApp({
    dir,
    cacheBytes: cacheMb * 1024 * 1024,
    fallback: proxy,
    observe: (req, res) => observeRequest(observer, req, res),
    health: () => health.answer(),
    metrics: () => source.text(),
    limits,
  });
  observeConnections(app.server, metrics);
  const uploads = await setUpUploads(flags, dir, reindex, (project) => {
    for (const page of ['index.html', 'index.json']) {
      app.cache.invalidate(join(dir, page));
      app.cache.invalidate(join(dir, project, page));
    }
    proxy?.localFilesChanged(project);
  }, logEvent);
  if (uploads !== undefined) app.upload = uploads;
  await listen(app.server, host, port);
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  if (announce) printLine(`dib-pypi serve: ${dir} at http://${urlHost(host)}:${bound}/ (also /simple/); Ctrl-C stops`);
  if (proxy !== undefined) printLine(`pull-through cache of ${(flags.upstream ?? []).map((u) => redact(u)).join(', ')}${flags.offline === true ? ' (offline: upstream never contacted)' : ''}`);
  await new Promise<void>((done) => {
    const stop = (signal: NodeJS.Signals) => {
      process.removeAllListeners('SIGINT');
      process.removeAllListeners('SIGTERM');
      app.server.close(() => void (proxy?.close() ?? Promise.resolve()).finally(done));
      app.server.closeAllConnections();
      if (signal === 'SIGINT') process.exitCode = 130;
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * One re-index queue for the files the cache stores and for uploads (one run at a time, shared by
 * those waiting), loaded only when one of them is enabled.
 */
function sharedReindexQueue(dir: string): () => Promise<ReindexQueue<IndexResult>> {
  let queue: Promise<ReindexQueue<IndexResult>> | undefined;
  return () =>
    (queue ??= Promise.all([import('../mirror/store/reindex-queue.js'), import('../mirror/index/index-mirror.js')]).then(([{ ReindexQueue }, { indexMirror }]) => new ReindexQueue(() => indexMirror({ dir }))));
}

/** The pull-through cache, when --upstream names indexes to proxy. */
async function setUpProxy(flags: ServeFlags, dir: string, reindexQueue: () => Promise<ReindexQueue<IndexResult>>, onPageWritten: (path: string) => void, onUpstreamRequest?: (kind: 'page' | 'file', seconds: number, isOk: boolean) => void) {
  const upstreams = flags.upstream ?? [];
  const ttl = parseSeconds(flags.ttl, '--ttl', 600);
  const timeout = parseSeconds(flags.timeout, '--timeout', 10);
  const maxPageBytes = parseByteLimit(flags.maxPageSize, '--max-page-size', DEFAULT_MAX_PAGE_BYTES);
  const maxFileBytes = parseByteLimit(flags.maxFileSize, '--max-file-size', DEFAULT_MAX_FILE_BYTES);
  if (upstreams.length === 0) {
    for (const [flag, given] of [['--offline', flags.offline], ['--ttl', flags.ttl], ['--timeout', flags.timeout], ['--allow-upstream', flags.allowUpstream], ['--max-page-size', flags.maxPageSize], ['--max-file-size', flags.maxFileSize]] as const) {
      if (given !== undefined) throw new UsageError('only with --upstream URL', flag);
    }
    return undefined;
  }
  const { parseUpstreamUrl } = await import('../upstream/upstream-url.js');
  for (const url of upstreams) parseUpstreamUrl(url);
  const { isValidProjectName, normalizeProjectName } = await import('../pypi/project-name.js');
  const allow = new Set<string>();
  for (const name of flags.allowUpstream ?? []) {
    if (!isValidProjectName(name)) throw new UsageError(`not a project name: ${JSON.stringify(name)}`, '--allow-upstream');
    allow.add(normalizeProjectName(name));
  }
  const { PullThroughCache } = await import('../server/proxy.js');
  const queue = await reindexQueue();
  return new PullThroughCache({
    dir,
    upstreams,
    ttlMs: ttl * 1000,
    timeoutMs: timeout * 1000,
    offline: flags.offline === true,
    maxPageBytes,
    maxFileBytes,
    allowUpstream: allow,
    onStored: () => {
      queue.request().catch((error: unknown) => warn(`re-index after a download failed: ${error instanceof Error ? error.message : String(error)}`));
    },
    onPageWritten,
    log: logEvent,
    onUpstreamRequest,
  });
}

/** Uploads are on: --upload-auth FILE, or a non-empty DIB_PYPI_UPLOAD_TOKEN. */
function uploadsEnabled(flags: ServeFlags): boolean {
  return flags.uploadAuth !== undefined || (process.env.DIB_PYPI_UPLOAD_TOKEN ?? '') !== '';
}

/** The upload API, when --upload-auth or DIB_PYPI_UPLOAD_TOKEN enables it. */
async function setUpUploads(flags: ServeFlags, dir: string, reindexQueue: () => Promise<ReindexQueue<IndexResult>>, onIndexed: (project: string) => void, log: (line: string) => void) {
  const token = process.env.DIB_PYPI_UPLOAD_TOKEN;
  const maxMb = parseMegabytes(flags.maxUploadMb, '--max-upload-mb', 1024);
  const maxFailures = parseLoginFailures(flags.maxLoginFailures);
  if (!uploadsEnabled(flags)) {
    if (flags.allowOverwrite === true) throw new UsageError('needs uploads enabled (--upload-auth FILE or DIB_PYPI_UPLOAD_TOKEN)', '--allow-overwrite');
    if (flags.maxLoginFailures !== undefined) throw new UsageError('needs uploads enabled (--upload-auth FILE or DIB_PYPI_UPLOAD_TOKEN)', '--max-login-failures');
    return undefined;
  }
  const { Authenticator, parseHtpasswd } = await import('../server/credentials.js');
  const { UploadThreads } = await import('../server/upload-threads.js');
  let users = new Map<string, string>();
  if (flags.uploadAuth !== undefined) {
    let text: string;
    try {
      text = readFileSync(flags.uploadAuth, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${JSON.stringify(flags.uploadAuth)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, '--upload-auth');
    }
    users = parseHtpasswd(text, flags.uploadAuth);
    if (users.size === 0) throw new UsageError(`${JSON.stringify(flags.uploadAuth)} lists no users`, '--upload-auth');
    const costs = new Set([...users.values()].map((hash) => hash.slice(4, 6)));
    if (costs.size > 1) warn(`${flags.uploadAuth}: the users' bcrypt costs differ (${[...costs].sort().join(', ')}): how long a wrong password takes tells users apart; give all the same (htpasswd -B -C N)`);
  }
  const { createUploadHandler } = await import('../server/upload.js');
  const { LoginLimiter } = await import('../server/login-limiter.js');
  const queue = await reindexQueue();
  const threads = new UploadThreads();
  return createUploadHandler({
    dir,
    threads,
    auth: new Authenticator({ users, token: token === '' ? undefined : token }, threads),
    allowOverwrite: flags.allowOverwrite === true,
    maxBytes: maxMb * 1024 * 1024,
    limiter: new LoginLimiter({ maxFailures: maxFailures }),
    onStored: async (project) => {
      const result = await queue.request();
      for (const problem of result.problems) warn(`broken file not served: ${problem.path}: ${problem.message}`);
      onIndexed(project);
    },
    log,
  });
}

/** Bring the index up to date (incremental: cheap when nothing changed); a read-only mirror is served as it is. */
async function indexAtStart(dir: string): Promise<void> {
  const { indexMirror } = await import('../mirror/index/index-mirror.js');
  const progress = createStatusLine(process.stderr);
  try {
    const result = await indexMirror({ dir, onProgress: (p) => progress.update(p.total > 0 ? `indexing: ${p.phase} ${p.done}/${p.total}` : `indexing: ${p.phase}...`) });
    progress.clear();
    for (const problem of result.problems) warn(`broken file not served: ${problem.path}: ${problem.message}`);
  } catch (error) {
    progress.clear();
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EROFS' && code !== 'EPERM') throw error;
    warn(`${dir} is read-only (${code}): serving its index as it is, without re-indexing`);
  }
}

function listen(server: import('node:http').Server, host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') fail(new DibPypiError(`cannot listen on ${host}:${port}: the port is in use (--port 0 picks a free one)`));
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') fail(new UsageError(`cannot listen on ${JSON.stringify(host)}: no such local address`, '--host'));
      else if (error.code === 'EACCES') fail(new DibPypiError(`cannot listen on ${host}:${port}: permission denied (ports below 1024 need root)`));
      else fail(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      done();
    });
  });
}
