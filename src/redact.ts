// Credentials in URLs are allowed, but never printed: every line dib-pypi writes goes through here.
//
// The rule (docs/security.md): in each line, everything between a URL's `scheme:/` (or `scheme://`)
// and the LAST `@` that follows it on that line, up to where the next URL starts after a blank, is
// userinfo; it becomes `***` (`user:***` when it holds a `:`, keeping the user name before it).
// A password may hold / ? # @ % : blanks or any other character, raw or percent-encoded: a parser
// (WHATWG, urllib) would split such a URL elsewhere, but no byte of it is printed whichever way it
// is read. The price: a URL with an `@` in its path, query or fragment, or followed on its line by
// an e-mail address, loses the text up to that `@` too. Kept as they are: `user@host` without a
// scheme, `mailto:user@host`.

// Where a URL starts: a scheme, a colon and one or two slashes (WHATWG reads `\` as `/` in http(s) URLs), or
// http(s)/ws(s)/ftp followed directly by the authority (`http:u:p@h` parses as http://u:p@h/).
const URL_START = /\b[a-zA-Z][a-zA-Z0-9+.-]*:[/\\]{1,2}|\b(?:[hH][tT][tT][pP][sS]?|[wW][sS][sS]?|[fF][tT][pP]):(?=[^\s/\\])/g;

// A URL that begins after a blank ends the previous one's reach (two URLs on one line are redacted
// each on its own). Only `scheme://` with a scheme of two letters or more counts, so a password
// would have to hold ` xy://` to be cut short.
const NEXT_URL = /^[a-zA-Z][a-zA-Z0-9+.-]+:\/\//;

interface Span {
  /** Where the text after `scheme:/` starts. */
  from: number;
  /** Where the next URL begins (or the line ends). */
  to: number;
}

/** The stretches of `line` that may hold userinfo: one per URL, from after its scheme to the next URL that follows a blank. */
function userinfoSpans(line: string): Span[] {
  const spans: Span[] = [];
  URL_START.lastIndex = 0;
  for (let match = URL_START.exec(line); match !== null; match = URL_START.exec(line)) {
    const last = spans.at(-1);
    const isNewUrl = last === undefined || (/\s/.test(line[match.index - 1] ?? '') && NEXT_URL.test(line.slice(match.index)));
    if (isNewUrl) {
      if (last !== undefined) last.to = match.index;
      spans.push({ from: match.index + match[0].length, to: line.length });
    }
  }
  URL_START.lastIndex = 0;
  return spans;
}

function redactLine(line: string): string {
  let out = '';
  let at = 0;
  for (const span of userinfoSpans(line)) {
    const end = line.lastIndexOf('@', span.to - 1);
    if (end < span.from) continue;
    const userinfo = line.slice(span.from, end);
    const colon = userinfo.indexOf(':');
    out += line.slice(at, span.from) + (colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`);
    at = end;
  }
  return out + line.slice(at);
}

/** Replace the userinfo of every URL in `text` (any number of lines) by `***` or `user:***`. */
export function redact(text: string): string {
  return text
    .split(/(\r\n|\r|\n)/)
    .map((part, i) => (i % 2 === 1 ? part : redactLine(part)))
    .join('');
}

/** `redact` applied to every string (keys too) of a JSON-able value, before it is serialized. */
export function redactDeep(value: unknown): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map(redactDeep);
  if (value !== null && typeof value === 'object' && (value as object).constructor === Object) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [redact(k), redactDeep(v)]));
  }
  return value;
}

/** Whether a URL (or any text) carries credentials: userinfo that redact() hides (or has hidden). */
export function hasCredentials(text: string): boolean {
  return text.split(/\r\n|\r|\n/).some((line) => userinfoSpans(line).some((span) => line.lastIndexOf('@', span.to - 1) >= span.from));
}

/**
 * Whether `url` has an `@` after the end of its authority (the first / ? # or \ after `scheme://`):
 * a user name or password holding a raw / ? # — pip (urllib) and WHATWG would both take its start for
 * the host and port and send the rest as the path. Such URLs are refused, with their userinfo redacted.
 */
export function hasAtAfterAuthority(url: string): boolean {
  const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:[/\\]*/.exec(url);
  if (match === null) return false;
  const rest = url.slice(match[0].length);
  const authorityEnd = rest.search(/[/?#\\]/);
  return authorityEnd !== -1 && rest.includes('@', authorityEnd);
}

/** What to say when hasAtAfterAuthority(url): the fix, never the password. */
export const AT_AFTER_AUTHORITY = "an '@' after the host: percent-encode / ? # @ in a user name or password (%2F %3F %23 %40)";

/**
 * Percent-decoding as urllib's unquote does it (pip reads userinfo so): runs of valid %XX become
 * their bytes, read as UTF-8; anything else is kept as it is. Never throws, unlike decodeURIComponent.
 */
export function unquote(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
}
