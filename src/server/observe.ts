// Watches each request and connection of the server: counts them into the metrics and, when the
// access log is on, writes one line per request once its response ends (or is cut off).
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
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

/**
 * The server's responses: they count the body bytes written (Content-Length is not known for every
 * response, nor sent whole when the client goes away) and catch the X-Dib-Pypi-Cache header given to
 * writeHead (getHeader cannot see those). A subclass (node's `ServerResponse` option of createServer)
 * rather than wrappers set on each response: nothing is allocated per request for it.
 */
export class ObservedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  sentBytes = 0;
  cacheHeader: string | undefined = undefined;
}

const base = ServerResponse.prototype;
ObservedResponse.prototype.writeHead = function (this: ObservedResponse, ...args: unknown[]) {
  const headers = args[1] !== null && typeof args[1] === 'object' ? args[1] : args[2];
  const value =
    headers !== null && typeof headers === 'object' && !Array.isArray(headers) ? (headers as Record<string, unknown>)['X-Dib-Pypi-Cache'] : undefined;
  const cache = value ?? this.getHeader('x-dib-pypi-cache');
  if (typeof cache === 'string') this.cacheHeader = cache;
  return (base.writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
} as typeof ObservedResponse.prototype.writeHead;
ObservedResponse.prototype.write = function (this: ObservedResponse, chunk: unknown, ...rest: unknown[]) {
  this.sentBytes += sizeOf(chunk, rest[0]);
  return (base.write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
} as typeof ObservedResponse.prototype.write;
ObservedResponse.prototype.end = function (this: ObservedResponse, chunk?: unknown, ...rest: unknown[]) {
  if (typeof chunk !== 'function') this.sentBytes += sizeOf(chunk, rest[0]);
  return (base.end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
} as typeof ObservedResponse.prototype.end;

/** Route labels of recent request targets (the same few URLs come again and again); forgotten past this many. */
const LABELS = new Map<string, string>();
const MAX_LABELS = 4096;

/** The bounded route label of a request: never its path. */
export function routeLabel(method: string, url: string): string {
  const key = `${method} ${url}`;
  let label = LABELS.get(key);
  if (label === undefined) {
    if (LABELS.size >= MAX_LABELS) LABELS.clear();
    label = routeLabelOf(method, url);
    LABELS.set(key, label);
  }
  return label;
}

function routeLabelOf(method: string, url: string): string {
  const queryAt = url.indexOf('?');
  const target = route(method, queryAt === -1 ? url : url.slice(0, queryAt));
  switch (target.kind) {
    case 'project':
      return target.ui === undefined ? 'page' : 'ui';
    case 'root':
      return target.ui === undefined ? 'root' : 'ui';
    case 'file':
      return target.filename.endsWith('.metadata') ? 'metadata' : 'file';
    case 'not-found':
      return 'other';
    default:
      return target.kind; // root, redirect, health, metrics, upload
  }
}

const UPLOAD_OUTCOMES: Record<number, string> = {
  200: 'stored',
  201: 'stored',
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  405: 'disabled',
  409: 'exists',
  413: 'too_large',
};

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
 * Follow one request (answered with an ObservedResponse): counted, and logged when the access log is
 * on, once the response is over: 'close' comes after 'finish' too, and without it when cut off.
 */
export function observeRequest(options: ObserverOptions, req: IncomingMessage, res: ServerResponse): void {
  const start = performance.now();
  res.once('close', () => {
    const durationSeconds = (performance.now() - start) / 1000;
    const isAborted = !res.writableFinished;
    const method = req.method ?? '-';
    const url = req.url ?? '';
    const label = routeLabel(method, url);
    // Cut off before any header went out: nginx's 499 (client closed the request), not a 200 never sent.
    const status = isAborted && !res.headersSent ? 499 : res.statusCode;
    const observed = res instanceof ObservedResponse ? res : undefined;
    const sent = method === 'HEAD' ? 0 : (observed?.sentBytes ?? 0);
    const cache = cacheStatus(res, observed?.cacheHeader, label, options.isCache);
    count(options, label, status, sent, durationSeconds, cache, isAborted);
    if (options.log === undefined) return;
    const entry: AccessEntry = {
      startMs: performance.timeOrigin + start,
      client: req.socket.remoteAddress,
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
  });
}

function count(options: ObserverOptions, label: string, status: number, bytes: number, seconds: number, cache: string | undefined, isAborted: boolean): void {
  const metrics = options.metrics;
  // Series keys written out (metrics.add would build them from objects): this runs on every request.
  metrics.addTo(`dib_pypi_http_requests_total|route="${label}",code="${status}"`, 1);
  if (bytes > 0) metrics.addTo(`dib_pypi_http_response_bytes_total|route="${label}"`, bytes);
  metrics.observeAt('dib_pypi_http_request_duration_seconds', `route="${label}"`, seconds);
  if (isAborted) metrics.add('dib_pypi_http_aborted_total', { route: label });
  if (label === 'upload') metrics.add('dib_pypi_uploads_total', { outcome: UPLOAD_OUTCOMES[status] ?? 'failed' });
  if (options.isCache && cache !== undefined && cache !== 'local' && label !== 'root')
    metrics.add('dib_pypi_cache_requests_total', { kind: label, result: cache });
}

function sizeOf(chunk: unknown, encoding: unknown): number {
  if (chunk === undefined || chunk === null) return 0;
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
