// A client of one PEP 503/691 simple index: root and project pages (JSON negotiated, HTML as fallback,
// conditional requests, last-serial) and verified downloads. Independent of what uses it (sync, the proxy).
import { normalizeProjectName } from '../pypi/project-name.js';
import { redact } from '../redact.js';
import { downloadVerified, type DownloadRequest, type DownloadResult } from './download-file.js';
import { headerValue, type HttpResponse } from './dispatch-get.js';
import { HttpTransport, isTransientStatus, networkError } from './http-transport.js';
import { parseProjectHtml, parseRootHtml } from './parse-simple-html.js';
import { parseProjectJson, parseRootJson } from './parse-simple-json.js';
import { DEFAULT_RETRY, withRetries, type RetryPolicy } from './retry.js';
import { MalformedPageError, UpstreamError, type FetchOutcome, type PageFormat, type ProjectPage, type RootPage, type Validators } from './simple-model.js';
import { authHeaders, parseUpstreamUrl, type UpstreamUrl } from './upstream-url.js';

/** PEP 691: JSON first, HTML as the fallback a PEP 503-only server answers with. */
export const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1';
const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

export interface SimpleClientOptions {
  /** The index root, credentials allowed (`https://user:pass@host/simple/`). */
  url: string;
  /** Parallel connections (default 8). */
  connections?: number;
  /** Per-request stall timeout (default 30 s). */
  timeoutMs?: number;
  retry?: RetryPolicy;
  userAgent?: string;
  /** Told about each retry (for a progress line). */
  onRetry?: (error: UpstreamError, attempt: number) => void;
  /** The largest page read (default: no limit); a bigger one fails, not transiently, as soon as it is known. */
  maxPageBytes?: number;
  /**
   * How long one attempt at a page may take, headers and body (default: no limit beyond the stall
   * timeout): an upstream that trickles a byte now and then never stalls, yet never finishes.
   */
  pageAttemptMs?: number;
}

/** What one page read may take. */
interface PageLimits {
  maxBytes: number;
  /** Date.now() past which the attempt fails. */
  deadline: number;
}

export class SimpleIndexClient {
  readonly upstream: UpstreamUrl;
  readonly #transport: HttpTransport;
  readonly #retry: RetryPolicy;
  readonly #onRetry: SimpleClientOptions['onRetry'];
  readonly #maxPageBytes: number;
  readonly #pageAttemptMs: number;

  constructor(options: SimpleClientOptions) {
    this.upstream = parseUpstreamUrl(options.url);
    this.#transport = new HttpTransport({
      connections: options.connections ?? 8,
      timeoutMs: options.timeoutMs ?? 30_000,
      userAgent: options.userAgent ?? 'dib-pypi',
    });
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#onRetry = options.onRetry;
    this.#maxPageBytes = options.maxPageBytes ?? Infinity;
    this.#pageAttemptMs = options.pageAttemptMs ?? Infinity;
  }

  /** The URL of a project's page: `<index>/<normalized>/` (PEP 503). */
  projectUrl(name: string): string {
    return new URL(`${encodeURIComponent(normalizeProjectName(name))}/`, this.upstream.base).href;
  }

  /** The root page: every project's name. */
  fetchRoot(validators?: Validators): Promise<FetchOutcome<RootPage>> {
    return this.#fetchPage(this.upstream.base, validators, (text, format, url) => (format === 'json' ? parseRootJson(text, url) : parseRootHtml(text, url)));
  }

  /** A project's page; `missing` on 404/410. */
  fetchProject(name: string, validators?: Validators): Promise<FetchOutcome<ProjectPage>> {
    return this.#fetchPage(this.projectUrl(name), validators, (text, format, url) =>
      format === 'json' ? parseProjectJson(text, url, name) : parseProjectHtml(text, url, name),
    );
  }

  /** Download a file to `target`, verified against its hash (see download-file.ts), with retries. */
  download(request: Omit<DownloadRequest, 'headers'>): Promise<DownloadResult> {
    return withRetries(this.#retry, () => downloadVerified(this.#transport, { ...request, headers: authHeaders(this.upstream, request.url) }), this.#onRetry);
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }

  async #fetchPage<T>(url: string, validators: Validators | undefined, parse: (text: string, format: PageFormat, url: string) => T): Promise<FetchOutcome<T>> {
    const headers: Record<string, string> = { accept: ACCEPT, ...authHeaders(this.upstream, url) };
    if (validators?.etag) headers['if-none-match'] = validators.etag;
    if (validators?.lastModified) headers['if-modified-since'] = validators.lastModified;
    return withRetries(
      this.#retry,
      async () => {
        const limits: PageLimits = { maxBytes: this.#maxPageBytes, deadline: Date.now() + this.#pageAttemptMs };
        const response = await this.#transport.get(url, headers);
        return readPage(response, url, validators, parse, this.#transport.timeoutMs, limits);
      },
      this.#onRetry,
    );
  }
}

function lastSerialOf(response: HttpResponse): number | undefined {
  const raw = headerValue(response.headers, 'x-pypi-last-serial');
  const serial = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(serial) && serial >= 0 ? serial : undefined;
}

function validatorsOf(response: HttpResponse, previous: Validators | undefined): Validators {
  const etag = headerValue(response.headers, 'etag') ?? previous?.etag;
  const lastModified = headerValue(response.headers, 'last-modified') ?? previous?.lastModified;
  const result: Validators = {};
  if (etag !== undefined) result.etag = etag;
  if (lastModified !== undefined) result.lastModified = lastModified;
  return result;
}

/** The page's format from its Content-Type (PEP 691: the JSON type, else HTML). */
function formatOf(response: HttpResponse, url: string): PageFormat {
  const type = (headerValue(response.headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === JSON_TYPE || type === 'application/vnd.pypi.simple.latest+json') return 'json';
  if (type === '' || type === 'text/html' || type === 'application/vnd.pypi.simple.v1+html' || type === 'application/vnd.pypi.simple.latest+html')
    return 'html';
  throw new MalformedPageError(redact(url), `unexpected Content-Type ${JSON.stringify(type)}`);
}

async function readPage<T>(
  response: HttpResponse,
  url: string,
  validators: Validators | undefined,
  parse: (text: string, format: PageFormat, url: string) => T,
  timeoutMs: number,
  limits: PageLimits,
): Promise<FetchOutcome<T>> {
  const { status } = response;
  const lastSerial = lastSerialOf(response);
  if (status === 304) {
    await response.body.dump();
    return { kind: 'not-modified', validators: validatorsOf(response, validators), ...(lastSerial === undefined ? {} : { lastSerial }) };
  }
  if (status === 404 || status === 410) {
    await response.body.dump();
    return { kind: 'missing', status };
  }
  if (status !== 200) {
    await response.body.dump();
    throw new UpstreamError(redact(url), `HTTP ${status}`, { status, isTransient: isTransientStatus(status) });
  }
  const text = await readLimited(response, url, timeoutMs, limits);
  const format = formatOf(response, url);
  const page = parse(text, format, url);
  return { kind: 'page', page, format, validators: validatorsOf(response, undefined), ...(lastSerial === undefined ? {} : { lastSerial }) };
}

/** A page's body as text, failing as soon as it is bigger than allowed or later than the attempt's deadline. */
async function readLimited(response: HttpResponse, url: string, timeoutMs: number, limits: PageLimits): Promise<string> {
  const announced = Number(headerValue(response.headers, 'content-length') ?? NaN);
  const tooBig = (seen: string) => new UpstreamError(redact(url), `page larger than the limit of ${limits.maxBytes} bytes (${seen})`, { isTransient: false });
  if (announced > limits.maxBytes) {
    await response.body.cancel();
    throw tooBig(`Content-Length ${announced}`);
  }
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    await response.body.forEach((chunk) => {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) throw tooBig(`more than ${limits.maxBytes} bytes sent`); // ends the request
      if (Date.now() > limits.deadline)
        throw new UpstreamError(redact(url), 'page not received in time (the upstream sends too slowly)', { isTransient: true });
      chunks.push(chunk);
    });
  } catch (error) {
    throw error instanceof UpstreamError ? error : networkError(url, error, timeoutMs);
  }
  return Buffer.concat(chunks, bytes).toString('utf8');
}
