// HTTP for the upstream client: undici's low-level dispatch() over one keep-alive Agent (tens of thousands of
// small requests reuse a few connections), timeouts, redirects, and every failure turned into an UpstreamError
// that says whether a retry can help.
//
// dispatch() with a handler of our own (dispatch-get.ts) instead of undici's request(): request() wraps every
// response in a Readable stream and every redirect-capable request in a RedirectHandler, a large share of the
// main thread's CPU per small request, and a sync makes tens of thousands of them. Bodies are handed to one
// consumer chunk by chunk (response-body.ts), with backpressure.
import Agent from 'undici/lib/dispatcher/agent.js';
import { redact } from '../redact.js';
import { UpstreamError } from './simple-model.js';
import { dispatchGet, headerValue, type HttpResponse } from './dispatch-get.js';

export interface TransportOptions {
  /** Most connections open at once per origin (the sync's --jobs). */
  connections: number;
  /** No response headers, or no body bytes, for this long: the request fails (transiently). */
  timeoutMs: number;
  userAgent: string;
}

// Network errors a second attempt may not meet (undici's codes and the socket's).
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** A network-level failure as an UpstreamError: a one-line reason, transient or not, the original as cause. */
export function networkError(url: string, error: unknown, timeoutMs: number): UpstreamError {
  const code = (error as { code?: string }).code ?? '';
  const cause = (error as { cause?: { code?: string } }).cause;
  const effective = TRANSIENT_CODES.has(code) ? code : (cause?.code ?? code);
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    UND_ERR_SOCKET: 'connection closed by the upstream',
    UND_ERR_HEADERS_TIMEOUT: `no response within ${timeoutMs / 1000} s`,
    UND_ERR_BODY_TIMEOUT: `stalled: no data for ${timeoutMs / 1000} s`,
    UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  };
  const reason = reasons[effective] ?? `${(error as Error).message}${effective ? ` (${effective})` : ''}`;
  return new UpstreamError(redact(url), reason, { isTransient: TRANSIENT_CODES.has(effective), cause: error });
}

/** HTTP statuses worth a retry: 408, 429 and 5xx. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

export class HttpTransport {
  readonly #agent: Agent;
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connections: options.connections,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
  }

  get timeoutMs(): number {
    return this.#options.timeoutMs;
  }

  /**
   * GET `url`, following up to 5 redirects (credentials are not sent to another origin); network failures
   * become UpstreamErrors. The caller must consume the body (forEach, text or dump).
   */
  async get(url: string, headers: Record<string, string>): Promise<HttpResponse> {
    let current = url;
    let sent: Record<string, string> = { 'user-agent': this.#options.userAgent, ...headers };
    for (let redirects = 0; ; redirects++) {
      let response: HttpResponse;
      try {
        response = await dispatchGet(this.#agent, current, sent);
      } catch (error) {
        throw networkError(current, error, this.#options.timeoutMs);
      }
      const location = REDIRECT_STATUSES.has(response.status) ? headerValue(response.headers, 'location') : undefined;
      if (location === undefined || redirects >= MAX_REDIRECTS) return response;
      try {
        await response.body.dump();
      } catch (error) {
        throw networkError(current, error, this.#options.timeoutMs);
      }
      let next: URL;
      try {
        next = new URL(location, current);
      } catch (error) {
        throw new UpstreamError(
          redact(current),
          `HTTP ${response.status} redirects to an invalid Location (${JSON.stringify(redact(location).slice(0, 200))})`,
          { status: response.status, isTransient: false, cause: error },
        );
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') return response;
      if (next.origin !== new URL(current).origin) sent = withoutCredentials(sent);
      current = next.href;
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

const MAX_REDIRECTS = 5;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (name !== 'authorization' && name !== 'cookie' && name !== 'proxy-authorization') kept[name] = value;
  return kept;
}
