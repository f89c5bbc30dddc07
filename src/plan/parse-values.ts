// Small validators for values from flags, env and .env: each returns a typed value or throws UsageError naming the source.
import { UsageError } from '../errors.js';
import { AT_AFTER_AUTHORITY, hasAtAfterAuthority, redact } from '../redact.js';

const SCHEMES = new Set(['http:', 'https:', 'file:']);

/**
 * Validate an index URL and return the string to write into pip.conf.
 * pip.conf is written with the `ini` package, which quotes values holding `=` and escapes `;`
 * (configparser, which pip uses, would then read the quotes and backslashes literally). So `=`
 * and `;` before the query are percent-encoded (pip unquotes userinfo; servers decode paths),
 * and are refused in the query, where encoding would change the meaning.
 */
export function parseIndexUrl(raw: string, origin: string): string {
  // redact() needs `scheme:/`; a value without it is echoed only when it holds no `@` at all.
  const shown = /^[a-z][a-z0-9+.-]*:\//i.test(raw) || !raw.includes('@') ? JSON.stringify(redact(raw)) : '(value not shown: it may hold a credential)';
  // Echoed only without an `@`: a password with a blank in it would defeat redaction.
  const blank = raw.search(/\s/);
  if (blank !== -1) {
    const echo = raw.includes('@') ? '' : `: ${JSON.stringify(raw)}`;
    throw new UsageError(`contains whitespace at character ${blank + 1}${echo} (give one URL per variable or flag)`, origin);
  }
  if (hasAtAfterAuthority(raw)) throw new UsageError(`${AT_AFTER_AUTHORITY}: ${shown}`, origin);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${shown}`, origin);
  }
  if (!SCHEMES.has(url.protocol)) {
    throw new UsageError(`unsupported scheme "${url.protocol}" in ${shown}: use http://, https:// or file://`, origin);
  }
  // WHATWG URL repairs `http:/host` and `http:///host`; pip (urllib) reads them as having no host.
  if (url.protocol !== 'file:' && !/^[a-z]+:\/\/[^/?#]/i.test(raw)) throw new UsageError(`no host in ${shown} (write ${url.protocol}//host/...)`, origin);
  if (url.protocol === 'file:' && !/^file:\/\//i.test(raw)) throw new UsageError(`write file URLs as file:///path: ${shown}`, origin);
  if (url.protocol === 'file:' && url.hostname !== '' && url.hostname !== 'localhost') {
    throw new UsageError(`a file:// URL must not name a host: ${shown} (write file:///path)`, origin);
  }
  if (raw.includes('#')) throw new UsageError(`a fragment (#...) has no meaning in an index URL: ${shown}`, origin);
  const queryAt = raw.indexOf('?');
  const query = queryAt === -1 ? '' : raw.slice(queryAt);
  if (/[;=]/.test(query)) {
    throw new UsageError(`'=' and ';' in the query cannot be written to pip.conf: ${shown}`, origin);
  }
  const head = queryAt === -1 ? raw : raw.slice(0, queryAt);
  return head.replaceAll('=', '%3D').replaceAll(';', '%3B') + query;
}

/** pip `retries`: a non-negative integer. */
export function parseRetries(raw: string, origin: string): number {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw new UsageError(`not a non-negative integer: ${JSON.stringify(raw)}`, origin);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value > 1000) throw new UsageError(`too large (at most 1000): ${text}`, origin);
  return value;
}

const FALSE_WORDS = new Set(['', '0', 'false', 'no', 'off', 'n']);

/**
 * DIB's boolean variables count as set when non-empty (`[ -n "$DIB_OFFLINE" ]`); we also read
 * 0/false/no/off as unset, which is what a person who writes them means.
 */
export function parseFlagVariable(raw: string | undefined): boolean {
  if (raw === undefined) return false;
  return !FALSE_WORDS.has(raw.trim().toLowerCase());
}
