// An upstream index URL: credentials taken out of it (sent as a Basic Authorization header, to its own origin only), a trailing slash ensured.
import { InputError } from '../errors.js';
import { AT_AFTER_AUTHORITY, hasAtAfterAuthority, redact, unquote } from '../redact.js';

export interface UpstreamUrl {
  /** The index root without credentials, ending in `/`. */
  base: string;
  /** `scheme://host:port` of the index: credentials go only there. */
  origin: string;
  /** `Basic ...` when the URL carried user:password@. */
  authorization?: string;
  /** The URL as it may be printed. */
  display: string;
}

/**
 * Parse an upstream index URL: http(s) only; `user:pass@` becomes a header, never part of a URL we
 * print or log. A bad one is an InputError of `input` (the caller's name for it).
 */
export function parseUpstreamUrl(raw: string, input = 'upstream'): UpstreamUrl {
  if (hasAtAfterAuthority(raw)) throw new InputError(input, `${AT_AFTER_AUTHORITY}: ${JSON.stringify(redact(raw))}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(input, `not a URL: ${JSON.stringify(redact(raw))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(input, `expected an http:// or https:// URL, got ${JSON.stringify(redact(raw))}`);
  const result: UpstreamUrl = { base: '', origin: url.origin, display: '' };
  if (url.username !== '' || url.password !== '') {
    const user = unquote(url.username);
    const password = unquote(url.password);
    result.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  url.hash = '';
  url.search = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  result.base = url.href;
  result.display = url.href;
  return result;
}

/** The headers that go with a request to `target`: the credentials only when it is on the index's own origin. */
export function authHeaders(upstream: UpstreamUrl, target: string): Record<string, string> {
  if (upstream.authorization === undefined) return {};
  return new URL(target).origin === upstream.origin ? { authorization: upstream.authorization } : {};
}
