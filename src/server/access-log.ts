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

/** Longest request target, referrer, user agent and user written (characters, before escaping). */
const MAX_URL = 1024;
const MAX_HEADER = 512;
const MAX_USER = 64;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const C_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 13: '\\r' };

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/**
 * Text made safe inside a quoted log field as Apache's ap_escape_logitem does: `"` and `\` get a
 * backslash, \b \t \n \v \r their C escapes, any other byte outside printable ASCII `\xhh` (a
 * character beyond Latin-1 as its UTF-8 bytes).
 */
export function escapeLogText(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code >= 0x20 && code < 0x7f) out += char === '"' ? '\\"' : char === '\\' ? '\\\\' : char;
    else if (C_ESCAPES[code] !== undefined) out += C_ESCAPES[code];
    else if (code <= 0xff) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else for (const byte of Buffer.from(char, 'utf8')) out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
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

function quoted(text: string | undefined, max: number): string {
  return text === undefined || text === '' ? '"-"' : `"${escapeLogText(clip(redact(text), max))}"`;
}

function bare(text: string | undefined, max: number): string {
  if (text === undefined || text === '') return '-';
  // Unquoted fields (client, user) must not hold a blank either: it would shift every later field.
  return escapeLogText(clip(text, max)).replace(/ /g, '\\x20');
}

/**
 * `127.0.0.1 - alice [07/Dec/2026:19:05:01 +0000] "GET /simple/x/ HTTP/1.1" 200 1234 "-" "pip/23.0.1" 0.003 hit`:
 * Apache's combined format (%b is `-` for no body), then the duration in seconds and the cache status.
 */
export function formatCombined(entry: AccessEntry): string {
  const request = `${entry.method} ${clip(redact(entry.url), MAX_URL)} HTTP/${entry.httpVersion}`;
  return [
    bare(entry.client, MAX_HEADER),
    '-',
    bare(entry.user, MAX_USER),
    clfTime(entry.startMs),
    `"${escapeLogText(request)}"`,
    String(entry.status),
    entry.bytes === 0 ? '-' : String(entry.bytes),
    quoted(entry.referrer, MAX_HEADER),
    quoted(entry.userAgent, MAX_HEADER),
    entry.durationSeconds.toFixed(3),
    entry.cache ?? '-',
  ].join(' ');
}

/** One JSON object with fixed keys in a fixed order; absent values are null. */
export function formatJsonLine(entry: AccessEntry): string {
  const text = (value: string | undefined, max: number) => (value === undefined || value === '' ? null : clip(redact(value), max));
  return JSON.stringify({
    time: new Date(entry.startMs).toISOString(),
    client: entry.client ?? null,
    user: entry.user === undefined ? null : clip(entry.user, MAX_USER),
    method: entry.method,
    url: clip(redact(entry.url), MAX_URL),
    protocol: `HTTP/${entry.httpVersion}`,
    status: entry.status,
    bytes: entry.bytes,
    referrer: text(entry.referrer, MAX_HEADER),
    user_agent: text(entry.userAgent, MAX_HEADER),
    duration: Math.round(entry.durationSeconds * 1e6) / 1e6,
    cache: entry.cache ?? null,
    route: entry.route,
    aborted: entry.isAborted,
  });
}

export function formatAccessLine(format: LogFormat, entry: AccessEntry): string {
  return format === 'json' ? formatJsonLine(entry) : formatCombined(entry);
}
