// The HTTP front of `dib-pypi serve`: routes each request to a page, a file, /health or the upload API.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { redact } from '../redact.js';
import { closeAfterAnswer, hasBody } from './close-after.js';
import { guardConnections, type ConnectionLimits } from './connection-guard.js';
import { DiskCache, type DiskEntry } from './disk-cache.js';
import { acceptsGzip, isNotModified, pickRange } from './http-cache.js';
import { negotiate, type Representation } from './negotiate.js';
import { fileHeaders, pageHeaders } from './response-headers.js';
import type { RequestGuard } from './read-auth.js';
import { ObservedResponse } from './observe.js';
import { route, type Route } from './routes.js';
import { sendBody, sendError, sendStream } from './respond.js';
import { answerUi, isUiPage, type PageRoute, type UiHandler } from './ui-view.js';

/** Where a project's page comes from, when not from DIR/<project>/ (the pull-through cache's pages). */
export interface PagePlan {
  /** The directory holding index.html and index.json; default DIR/<project>. */
  dir?: string;
  /** Extra response headers (e.g. that the page is served stale). */
  headers?: Record<string, string>;
  /** Neither upstream nor DIR can answer: why (502 unless DIR has a page). */
  unavailable?: string;
}

/** What the fallback did for a file DIR lacks: nothing known, stored it in DIR, answered itself, or points at another file. */
export type MissingFileOutcome = 'unknown' | 'stored' | 'handled' | { path: string };

/** A page or file that another part of the server (the pull-through cache) can supply when DIR lacks it. */
export interface Fallback {
  preparePage(project: string): Promise<PagePlan | undefined>;
  serveMissingFile(project: string, filename: string, req: IncomingMessage, res: ServerResponse): Promise<MissingFileOutcome>;
  /** A file of DIR/<project>/ is being answered (the cache's order of eviction). */
  fileServed?(project: string, filename: string): void;
}

export type UploadHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface AppOptions {
  dir: string;
  /** Bytes of pages and small files kept in memory (default 64 MiB). */
  cacheBytes?: number;
  fallback?: Fallback;
  upload?: UploadHandler;
  /** Called as each request comes in (metrics, access log: see observe.ts). */
  observe?: (req: IncomingMessage, res: ServerResponse) => void;
  /** The /health answer (default: 200 {"status":"ok"}). */
  health?: () => Promise<{ httpStatus: number; body: Record<string, unknown> }>;
  /** The /metrics text (Prometheus format); none: 404. */
  metrics?: () => Promise<string>;
  /** Open connections and the deadline for a request's headers (connection-guard.ts). */
  limits?: ConnectionLimits;
  /** Asked first, for every request: calls `next` when it may be answered (read-auth.ts). */
  guard?: RequestGuard;
  /** HTTPS (tls.ts); default a new HTTP server. */
  server?: Server;
}

export interface App {
  server: Server;
  dir: string;
  cache: DiskCache;
  /** The upload API; set after creation when uploads are enabled. */
  upload?: UploadHandler;
  ui?: UiHandler;
}

/** Files up to this size are answered from memory after the first read. */
const SMALL_FILE_BYTES = 256 * 1024;
const GZIP_MIN_BYTES = 200;

export function createApp(options: AppOptions): App {
  const cache = new DiskCache({ root: options.dir, maxBodyBytes: SMALL_FILE_BYTES * 8, maxTotalBytes: options.cacheBytes ?? 64 * 1024 * 1024, validMs: 1000 });
  const server = options.server ?? (createServer({ ServerResponse: ObservedResponse }) as Server);
  const app: App = { server, dir: options.dir, cache, upload: options.upload };
  guardConnections(app.server, options.limits);
  // `Expect: 100-continue`: node would invite the body before any handler ran; the upload API invites it
  // only once the credentials are good (upload.ts), every other request at once.
  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const raw = req.url ?? '/';
    const pathname = raw.includes('?') ? raw.slice(0, raw.indexOf('?')) : raw;
    if (!(req.method === 'POST' && app.upload !== undefined && route('POST', pathname).kind === 'upload')) res.writeContinue();
    app.server.emit('request', req, res);
  });
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    options.observe?.(req, res);
    if (options.guard === undefined) answer(app, options, req, res);
    else options.guard(req, res, () => answer(app, options, req, res));
  });
  return app;
}

function answer(app: App, options: AppOptions, req: IncomingMessage, res: ServerResponse): void {
  if (answerFromMemory(app, options, req, res)) return;
  handle(app, options, req, res).catch((error: unknown) => {
    process.stderr.write(
      `${new Date().toISOString()} dib-pypi serve: ${req.method} ${redact(req.url ?? '')}: ${redact(error instanceof Error ? error.message : String(error))}\n`,
    );
    if (!res.headersSent) sendError(req, res, 500, 'internal error');
    else res.destroy();
  });
}

async function handle(app: App, options: AppOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  const queryAt = raw.indexOf('?');
  const pathname = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const query = queryAt === -1 ? '' : raw.slice(queryAt);
  const method = req.method ?? 'GET';
  // A body no route here reads (a POST elsewhere, a PUT, uploads off) is not read to keep the connection: it is closed.
  if (hasBody(req) && !(method === 'POST' && app.upload !== undefined && route(method, pathname).kind === 'upload')) closeAfterAnswer(req, res);
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    res.setHeader('Allow', 'GET, HEAD, POST');
    return sendError(req, res, 405, `method ${method} not allowed`);
  }
  const target: Route = route(method, pathname);
  switch (target.kind) {
    case 'health': {
      const health = (await options.health?.()) ?? { httpStatus: 200, body: { status: 'ok' } };
      return sendBody(
        req,
        res,
        health.httpStatus,
        { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
        Buffer.from(`${JSON.stringify(health.body)}\n`),
      );
    }
    case 'metrics':
      if (options.metrics === undefined) return sendError(req, res, 404, 'not found');
      return sendBody(
        req,
        res,
        200,
        { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Cache-Control': 'no-store' },
        Buffer.from(await options.metrics()),
      );
    case 'redirect':
      res.setHeader('Location', target.location + query);
      return sendError(req, res, 301, `moved to ${target.location}`);
    case 'root':
    case 'project':
      return servePage(app, options, req, res, target, query);
    case 'file':
      return serveFile(app, options, req, res, target.project, target.filename);
    case 'upload':
      if (app.upload === undefined) {
        return sendError(req, res, 405, 'uploads are not enabled on this server (start it with --upload-auth FILE or DIB_PYPI_UPLOAD_TOKEN)');
      }
      return app.upload(req, res);
    case 'not-found':
      return sendError(req, res, 404, 'not found');
  }
}

function formatParam(query: string): string | null {
  return query === '' ? null : new URLSearchParams(query.slice(1)).get('format');
}

async function servePage(app: App, options: AppOptions, req: IncomingMessage, res: ServerResponse, target: PageRoute, query: string): Promise<void> {
  const ui = answerUi(app.ui, target, req, res, formatParam(query), query); // the web page: behind whatever guards pages
  if (ui !== undefined) return ui;
  const project = target.kind === 'project' ? target.project : undefined;
  let rep: Representation = negotiate(req.headers.accept, formatParam(query));
  const plan = project === undefined ? undefined : await options.fallback?.preparePage(project);
  const extraHeaders = plan?.headers;
  const pageDir = plan?.dir ?? join(app.dir, project ?? '');
  let entry = await app.cache.get(join(pageDir, rep.format === 'json' ? 'index.json' : 'index.html'));
  if (entry === undefined && rep.format === 'json') {
    // A tree indexed by another tool (dir2pi, pip2pi) has HTML pages only: they still answer.
    rep = negotiate(undefined);
    entry = await app.cache.get(join(pageDir, 'index.html'));
  }
  if (entry === undefined && plan?.unavailable !== undefined) return sendError(req, res, 502, plan.unavailable);
  if (entry === undefined) return sendError(req, res, 404, project === undefined ? 'this mirror has no index yet' : `no project named ${project}`);
  const isProxyRoot = project === undefined && rep.format === 'json' && options.fallback !== undefined;
  const body = isProxyRoot ? withoutPagesDigest(app, entry, await bodyOf(app, entry)) : await bodyOf(app, entry);
  const gzip = acceptsGzip(req.headers['accept-encoding']) && body.length >= GZIP_MIN_BYTES;
  const headers = pageHeaders(rep, entry, gzip, extraHeaders);
  if (isNotModified(req.headers['if-none-match'], req.headers['if-modified-since'], [entry.etag], entry.mtimeMs))
    return sendBody(req, res, 304, headers, undefined);
  if (!gzip) return sendBody(req, res, 200, headers, body);
  const gzipKey = isProxyRoot ? 'gzip-no-digest' : 'gzip';
  let packed = entry.extra?.get(gzipKey);
  if (packed === undefined) {
    packed = gzipSync(body, { level: 6 });
    app.cache.keep(entry, packed, gzipKey);
  }
  headers['Content-Encoding'] = 'gzip';
  return sendBody(req, res, 200, headers, packed);
}

/**
 * The pull-through cache's root page without the mirror's digest of its pages (`meta._dib-pypi-pages`,
 * first in the page as `mirror index` writes it): its project pages change with the upstream too,
 * which that digest does not follow, so a sync from this server must check every project page.
 */
function withoutPagesDigest(app: App, entry: DiskEntry, body: Buffer): Buffer {
  let stripped = entry.extra?.get('no-digest');
  if (stripped === undefined) {
    stripped = Buffer.from(body.toString('utf8').replace(/^\{"meta":\{"_dib-pypi-pages":"[0-9a-f]{64}",/, '{"meta":{'));
    app.cache.keep(entry, stripped, 'no-digest');
  }
  return stripped;
}

/**
 * The hot path, without a promise: a plain GET/HEAD (no query, no Range, no validators) of a page or
 * small file whose bytes are in memory and were checked on disk within the last second. Everything
 * else (and a miss) goes the full way; the answers are the same.
 */
function answerFromMemory(app: App, options: AppOptions, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method;
  const url = req.url ?? '/';
  if ((method !== 'GET' && method !== 'HEAD') || url.includes('?') || hasBody(req)) return false;
  const headers = req.headers;
  if (headers.range !== undefined || headers['if-none-match'] !== undefined || headers['if-modified-since'] !== undefined) return false;
  const target = route(method, url);
  // With a fallback (the pull-through cache) pages go the full way: its JSON root page loses its pages digest there (withoutPagesDigest).
  if (options.fallback === undefined && (target.kind === 'root' || target.kind === 'project') && !isUiPage(target, headers.accept, app.ui)) {
    const rep = negotiate(headers.accept);
    const entry = app.cache.peek(join(app.dir, target.kind === 'project' ? target.project : '', rep.format === 'json' ? 'index.json' : 'index.html'));
    if (entry?.body === undefined) return false;
    const gzip = acceptsGzip(headers['accept-encoding']) && entry.body.length >= GZIP_MIN_BYTES;
    const packed = gzip ? entry.extra?.get('gzip') : entry.body;
    if (packed === undefined) return false;
    const answer = pageHeaders(rep, entry, gzip);
    if (gzip) answer['Content-Encoding'] = 'gzip';
    sendBody(req, res, 200, answer, packed);
    return true;
  }
  if (target.kind === 'file') {
    const entry = app.cache.peek(target.project === undefined ? join(app.dir, target.filename) : join(app.dir, target.project, target.filename));
    if (entry?.body === undefined) return false;
    sendBody(req, res, 200, fileHeaders(target.filename, entry), entry.body);
    return true;
  }
  return false;
}

async function bodyOf(app: App, entry: DiskEntry): Promise<Buffer> {
  if (entry.body !== undefined) return entry.body;
  const body = await readFile(entry.path);
  app.cache.keep(entry, body);
  return body;
}

async function serveFile(
  app: App,
  options: AppOptions,
  req: IncomingMessage,
  res: ServerResponse,
  project: string | undefined,
  filename: string,
): Promise<void> {
  const path = project === undefined ? join(app.dir, filename) : join(app.dir, project, filename);
  let entry = await app.cache.get(path);
  if (entry === undefined && project !== undefined && options.fallback !== undefined) {
    const outcome = await options.fallback.serveMissingFile(project, filename, req, res);
    if (outcome === 'handled') return;
    if (outcome === 'stored') {
      res.setHeader('X-Dib-Pypi-Cache', 'miss'); // downloaded for this request (another request's download, waited for)
      app.cache.invalidate(path);
      entry = await app.cache.get(path);
    } else if (outcome !== 'unknown') entry = await app.cache.get(outcome.path);
  }
  if (entry === undefined) return sendError(req, res, 404, `no file ${project === undefined ? '' : `${project}/`}${filename}`);
  if (project !== undefined) options.fallback?.fileServed?.(project, filename);
  const headers = fileHeaders(filename, entry);
  if (isNotModified(req.headers['if-none-match'], req.headers['if-modified-since'], [entry.etag], entry.mtimeMs))
    return sendBody(req, res, 304, headers, undefined);
  const ifRange = req.headers['if-range'];
  const range = pickRange(req.headers.range, Array.isArray(ifRange) ? ifRange[0] : ifRange, entry.etag, entry.lastModified, entry.size);
  if (range.kind === 'unsatisfiable') {
    headers['Content-Range'] = `bytes */${entry.size}`;
    return sendBody(req, res, 416, headers, undefined);
  }
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : entry.size - 1;
  const status = range.kind === 'partial' ? 206 : 200;
  if (range.kind === 'partial') headers['Content-Range'] = `bytes ${start}-${end}/${entry.size}`;
  if (entry.size <= SMALL_FILE_BYTES) {
    const body = await bodyOf(app, entry);
    return sendBody(req, res, status, headers, status === 206 ? body.subarray(start, end + 1) : body);
  }
  return sendStream(req, res, status, headers, entry, start, end, () => app.cache.invalidate(entry.path));
}
