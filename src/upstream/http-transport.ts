// HTTP for the upstream client: undici's request() over one keep-alive Agent (tens of thousands of small
// requests reuse a few connections), timeouts, and every failure turned into an UpstreamError that says
// whether a retry can help.
import { Agent, request, type Dispatcher } from 'undici';
import { redact } from '../redact.js';
import { UpstreamError } from './simple-model.js';

export interface TransportOptions {
  /** Most connections open at once per origin (the sync's --jobs). */
  connections: number;
  /** No response headers, or no body bytes, for this long: the request fails (transiently). */
  timeoutMs: number;
  userAgent: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
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

  /** GET `url`; network failures become UpstreamErrors. The caller must read or dump the body. */
  async get(url: string, headers: Record<string, string>): Promise<HttpResponse> {
    try {
      const response = await request(url, {
        method: 'GET',
        dispatcher: this.#agent,
        headers: { 'user-agent': this.#options.userAgent, ...headers },
        maxRedirections: 5,
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      throw networkError(url, error, this.#options.timeoutMs);
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** One header's value (the first, when repeated). */
export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
