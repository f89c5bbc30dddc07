// Core metadata (METADATA, PKG-INFO; Metadata-Version 1.0 to 2.4): the RFC 822-style header fields the mirror uses. Pure.
import type { CoreMetadata } from './types.js';
import { BrokenDistributionError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 when the bytes are UTF-8 (the spec since Metadata-Version 2.1); otherwise latin-1, which
 * old PKG-INFO files written by Python 2 distutils often are. A BOM is dropped.
 */
export function decodeMetadataText(bytes: Buffer | string): string {
  let text: string;
  if (typeof bytes === 'string') text = bytes;
  else {
    try {
      text = utf8.decode(bytes);
    } catch {
      text = bytes.toString('latin1'); // ISO-8859-1 proper: byte n is U+00nn (TextDecoder's 'latin1' is windows-1252)
    }
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * The header block as (lower-cased name, value) pairs, in order. As Python's `email.feedparser`:
 * a line starting with space or tab continues the previous header (folded here with one space),
 * the first empty line ends the headers (the body is the description), and so does a line that
 * is neither a header nor a continuation (a body with the separator line missing).
 */
export function parseHeaders(text: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line === '') break;
    const last = headers[headers.length - 1];
    if (line[0] === ' ' || line[0] === '\t') {
      if (last === undefined) break; // a continuation with nothing to continue: body
      const more = line.trim();
      if (more !== '') last[1] = last[1] === '' ? more : `${last[1]} ${more}`;
      continue;
    }
    // RFC 5322 field names: printable ASCII except `:`; email.feedparser's headerRE.
    const match = /^([\x21-\x39\x3b-\x7e]+):(.*)$/.exec(line);
    if (match === null) break;
    headers.push([(match[1] as string).toLowerCase(), (match[2] as string).trim()]);
  }
  return headers;
}

/**
 * Parse METADATA or PKG-INFO. Name and Version are required (core metadata spec); a file
 * without them throws `BrokenDistributionError` naming `path` (the distribution, when known).
 * Single-use fields keep their first value, as Python's `Message.__getitem__` does.
 */
export function parseCoreMetadata(bytes: Buffer | string, path = 'core metadata'): CoreMetadata {
  const headers = parseHeaders(decodeMetadataText(bytes));
  const first = (field: string): string | undefined => headers.find(([name, value]) => name === field && value !== '')?.[1];
  const all = (field: string): string[] => headers.filter(([name, value]) => name === field && value !== '').map(([, value]) => value);

  const name = first('name');
  const version = first('version');
  const missing = [name === undefined ? 'Name' : undefined, version === undefined ? 'Version' : undefined].filter((m) => m !== undefined);
  if (name === undefined || version === undefined) throw new BrokenDistributionError(path, `core metadata has no ${missing.join(' and no ')}`);

  const core: CoreMetadata = { name, version, requiresDist: all('requires-dist'), providesExtra: all('provides-extra') };
  const metadataVersion = first('metadata-version');
  if (metadataVersion !== undefined) core.metadataVersion = metadataVersion;
  const requiresPython = first('requires-python');
  if (requiresPython !== undefined) core.requiresPython = requiresPython;
  return core;
}
