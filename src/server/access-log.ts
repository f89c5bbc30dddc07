// Access log lines (pure): Apache's combined format plus duration and cache status, or one JSON
// object per line. Every field from the client is redacted and escaped, so a request cannot forge
// a line, and each field is bounded, so a line stays one atomic pipe write (PIPE_BUF, 4096 bytes)
// when several serving processes share stdout.
import { redact } from '../redact.js';

export type LogFormat = 'combined' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['combined', 'json'];

/** One answered (or aborted) request, as the log tells it. */
export interface AccessEntry {
  /** When the request came in (ms since the epoch). */
  startMs: number;
  client: string | undefined;
  /** The Basic-auth user name (never the password). */
  user: string | undefined;
  method: string;
  /** The request target as sent (redacted when written). */
  url: string;
  httpVersion: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  referrer: string | undefined;
  userAgent: string | undefined;
  durationSeconds: number;
  /** hit, miss, refreshed, stale, offline, private (the X-Dib-Pypi-Cache header), local (from DIR), or undefined. */
  cache: string | undefined;
  /** The route label of the metrics (page, file, ...). */
  route: string;
  /** The connection closed before the whole response was sent. */
  isAborted: boolean;
}

/** Longest request line, referrer, user agent, user and client written (characters, once escaped). */
const MAX_REQUEST = 1536;
const MAX_REFERRER = 768;
const MAX_AGENT = 1024;
const MAX_USER = 64;
const MAX_CLIENT = 64;
const CLIPPED = '...';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Printable ASCII but `"` and `\`: written as it is (the common case, checked at once). */
const SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SAFE_BARE = /^[\x21\x23-\x5b\x5d-\x7e]*$/;
const C_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 13: '\\r' };

/**
 * Text made safe inside a quoted log field as Apache's ap_escape_logitem does: `"` and `\` get a
 * backslash, \b \t \n \v \r their C escapes, any other byte outside printable ASCII `\xhh` (a
 * character beyond Latin-1 as its UTF-8 bytes). At most `max` characters; `isBare` (an unquoted
 * field) escapes blanks too.
 */
export function escapeLogText(text: string, max = Infinity, isBare = false): string {
  if (text.length <= max && (isBare ? SAFE_BARE : SAFE).test(text)) return text;
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    let escaped: string;
    if (isBare && char === ' ') escaped = '\\x20';
    else if (code >= 0x20 && code < 0x7f) escaped = char === '"' ? '\\"' : char === '\\' ? '\\\\' : char;
    else if (C_ESCAPES[code] !== undefined) escaped = C_ESCAPES[code] as string;
    else if (code <= 0xff) escaped = `\\x${code.toString(16).padStart(2, '0')}`;
    else escaped = [...Buffer.from(char, 'utf8')].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
    // Never half an escape: the text stops before the character that would not fit, and says so.
    if (out.length + escaped.length > max) return out + CLIPPED;
    out += escaped;
  }
  return out;
}

/** `text` cut so that its JSON string takes at most `max` bytes (a control character takes 6, a euro sign 3). */
function clipForJson(text: string, max: number): string {
  const size = (part: string) => Buffer.byteLength(JSON.stringify(part));
  if (size(text) <= max) return text;
  let low = 0;
  let high = Math.min(text.length, max);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (size(text.slice(0, mid)) + CLIPPED.length <= max) low = mid;
    else high = mid - 1;
  }
  return text.slice(0, low) + CLIPPED;
}

/** Apache's %t: `[07/Dec/2026:19:05:01 +0000]`, always in UTC. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`;
}

/** The user name of a `Basic` Authorization header (RFC 7617), never its password; undefined for anything else. */
export function basicAuthUser(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user === '' ? undefined : user;
}

/** Redacted before it is cut, so that a cut cannot leave a password without the `@` redact looks for. */
function quoted(text: string | undefined, max: number): string {
  return text === undefined || text === '' ? '"-"' : `"${escapeLogText(redact(text), max)}"`;
}

function bare(text: string | undefined, max: number): string {
  // Unquoted fields (client, user) must not hold a blank either: it would shift every later field.
  return text === undefined || text === '' ? '-' : escapeLogText(text, max, true);
}

/**
 * `127.0.0.1 - alice [07/Dec/2026:19:05:01 +0000] "GET /simple/x/ HTTP/1.1" 200 1234 "-" "pip/23.0.1" 0.003 hit`:
 * Apache's combined format (%b is `-` for no body), then the duration in seconds and the cache status.
 */
export function formatCombined(entry: AccessEntry): string {
  const request = `${entry.method} ${redact(entry.url)} HTTP/${entry.httpVersion}`;
  return [
    bare(entry.client, MAX_CLIENT),
    '-',
    bare(entry.user, MAX_USER),
    clfTime(entry.startMs),
    quoted(request, MAX_REQUEST),
    String(entry.status),
    entry.bytes === 0 ? '-' : String(entry.bytes),
    quoted(entry.referrer, MAX_REFERRER),
    quoted(entry.userAgent, MAX_AGENT),
    entry.durationSeconds.toFixed(3),
    entry.cache ?? '-',
  ].join(' ');
}

/** One JSON object with fixed keys in a fixed order; absent values are null. */
export function formatJsonLine(entry: AccessEntry): string {
  const text = (value: string | undefined, max: number) => (value === undefined || value === '' ? null : clipForJson(redact(value), max));
  return JSON.stringify({
    time: new Date(entry.startMs).toISOString(),
    client: text(entry.client, MAX_CLIENT),
    user: text(entry.user, MAX_USER),
    method: clipForJson(entry.method, MAX_USER),
    url: text(entry.url, MAX_REQUEST) ?? '',
    protocol: `HTTP/${entry.httpVersion}`,
    status: entry.status,
    bytes: entry.bytes,
    referrer: text(entry.referrer, MAX_REFERRER),
    user_agent: text(entry.userAgent, MAX_AGENT),
    duration: Math.round(entry.durationSeconds * 1e6) / 1e6,
    cache: entry.cache ?? null,
    route: entry.route,
    aborted: entry.isAborted,
  });
}

export function formatAccessLine(format: LogFormat, entry: AccessEntry): string {
  return format === 'json' ? formatJsonLine(entry) : formatCombined(entry);
}
