// Watches each request and connection of the server: counts them into the metrics and, when the
// access log is on, writes one line per request once its response ends (or is cut off).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { basicAuthUser, formatAccessLine, type AccessEntry, type LogFormat } from './access-log.js';
import type { Metrics } from './metrics.js';
import { route } from './routes.js';

export interface ObserverOptions {
  metrics: Metrics;
  /** The access log: where each line goes (one call per line), and its format. */
  log?: { write: (line: string) => void; format: LogFormat };
  /** A pull-through cache: a page or file answered from DIR counts as a cache hit. */
  isCache: boolean;
}

/** The bounded route label of a request: never its path. */
export function routeLabel(method: string, url: string): string {
  const queryAt = url.indexOf('?');
  const target = route(method, queryAt === -1 ? url : url.slice(0, queryAt));
  switch (target.kind) {
    case 'project':
      return 'page';
    case 'file':
      return target.filename.endsWith('.metadata') ? 'metadata' : 'file';
    case 'not-found':
      return 'other';
    default:
      return target.kind; // root, redirect, health, metrics, upload
  }
}

const UPLOAD_OUTCOMES: Record<number, string> = { 200: 'stored', 201: 'stored', 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 405: 'disabled', 409: 'exists', 413: 'too_large' };

/** The access log's cache column: the proxy's X-Dib-Pypi-Cache, else `local` (or `hit` as a cache) for a page or file from DIR. */
function cacheStatus(res: ServerResponse, header: string | undefined, label: string, isCache: boolean): string | undefined {
  if (header !== undefined) return header;
  const isServed = res.statusCode < 300 || res.statusCode === 304;
  if (!isServed || (label !== 'page' && label !== 'root' && label !== 'file' && label !== 'metadata')) return undefined;
  return isCache && label !== 'root' ? 'hit' : 'local';
}

/** Count the server's connections (accepted, open now) into `metrics`. */
export function observeConnections(server: Server, metrics: Metrics): void {
  let open = 0;
  metrics.set('dib_pypi_open_connections', {}, 0);
  server.on('connection', (socket) => {
    open++;
    metrics.add('dib_pypi_connections_total', {});
    metrics.set('dib_pypi_open_connections', {}, open);
    socket.once('close', () => metrics.set('dib_pypi_open_connections', {}, --open));
  });
}

/**
 * Follow one request: body bytes are counted as they are written (Content-Length is not known for
 * every response, nor sent whole when the client goes away), and the line is made when the response
 * has ended ('finish') or the connection closed first ('close', aborted).
 */
export function observeRequest(options: ObserverOptions, req: IncomingMessage, res: ServerResponse): void {
  const startMs = Date.now();
  const start = process.hrtime.bigint();
  const client = req.socket.remoteAddress;
  let bytes = 0;
  let cacheHeader: string | undefined;
  // Headers given to writeHead() are not readable with getHeader() afterwards: X-Dib-Pypi-Cache is caught on the way.
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const headers = args.find((arg) => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) as Record<string, unknown> | undefined;
    const value = headers?.['X-Dib-Pypi-Cache'] ?? this.getHeader('x-dib-pypi-cache');
    if (typeof value === 'string') cacheHeader = value;
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    bytes += sizeOf(chunk, rest[0]);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    if (typeof chunk !== 'function') bytes += sizeOf(chunk, rest[0]);
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  let isDone = false;
  const done = (isAborted: boolean) => {
    if (isDone) return;
    isDone = true;
    const method = req.method ?? '-';
    const url = req.url ?? '';
    const label = routeLabel(method, url);
    // Cut off before any header went out: nginx's 499 (client closed the request), not a 200 never sent.
    const status = isAborted && !res.headersSent ? 499 : res.statusCode;
    const sent = method === 'HEAD' ? 0 : bytes;
    const durationSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cache = cacheStatus(res, cacheHeader, label, options.isCache);
    count(options, label, status, sent, durationSeconds, cache, isAborted);
    if (options.log === undefined) return;
    const entry: AccessEntry = {
      startMs,
      client,
      user: basicAuthUser(req.headers.authorization),
      method,
      url,
      httpVersion: req.httpVersion,
      status,
      bytes: sent,
      referrer: req.headers.referer,
      userAgent: req.headers['user-agent'],
      durationSeconds,
      cache,
      route: label,
      isAborted,
    };
    options.log.write(formatAccessLine(options.log.format, entry));
  };
  res.once('finish', () => done(false));
  res.once('close', () => done(true));
}

function count(options: ObserverOptions, label: string, status: number, bytes: number, seconds: number, cache: string | undefined, isAborted: boolean): void {
  const metrics = options.metrics;
  metrics.add('dib_pypi_http_requests_total', { route: label, code: String(status) });
  if (bytes > 0) metrics.add('dib_pypi_http_response_bytes_total', { route: label }, bytes);
  metrics.observe('dib_pypi_http_request_duration_seconds', { route: label }, seconds);
  if (isAborted) metrics.add('dib_pypi_http_aborted_total', { route: label });
  if (label === 'upload') metrics.add('dib_pypi_uploads_total', { outcome: UPLOAD_OUTCOMES[status] ?? 'failed' });
  if (options.isCache && cache !== undefined && cache !== 'local' && label !== 'root') metrics.add('dib_pypi_cache_requests_total', { kind: label, result: cache });
}

function sizeOf(chunk: unknown, encoding: unknown): number {
  if (chunk === undefined || chunk === null) return 0;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
