// Conditional requests and byte ranges (RFC 9110 13 and 14), decided from headers alone (pure).

/** Whether a GET/HEAD may be answered 304: If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). */
export function isNotModified(ifNoneMatch: string | undefined, ifModifiedSince: string | undefined, etags: readonly string[], lastModifiedMs: number): boolean {
  if (ifNoneMatch !== undefined) {
    const tags = ifNoneMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.some((tag) => etags.includes(tag));
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    // HTTP dates have one-second resolution.
    return Number.isFinite(since) && Math.floor(lastModifiedMs / 1000) * 1000 <= since;
  }
  return false;
}

export type RangeAnswer = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * The part of a `size`-byte representation a `Range` header asks for. Only a single byte range is
 * served; several ranges, other units or a malformed header get the whole representation (RFC 9110
 * 14.2 lets a server ignore Range). `If-Range` with another validator also means the whole.
 */
export function pickRange(range: string | undefined, ifRange: string | undefined, etag: string, lastModified: string, size: number): RangeAnswer {
  if (range === undefined) return { kind: 'full' };
  if (ifRange !== undefined && ifRange.trim() !== etag && ifRange.trim() !== lastModified) return { kind: 'full' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (match === null) return { kind: 'full' };
  // Both groups always take part in a match (each may be empty).
  const first = match[1] ?? '';
  const last = match[2] ?? '';
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    return size === 0 ? { kind: 'unsatisfiable' } : { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return { kind: 'full' }; // invalid: ignored
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

/** Whether the client takes gzip (`Accept-Encoding`, q-values honoured). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (acceptEncoding === undefined) return false;
  for (const item of acceptEncoding.split(',')) {
    const [coding, ...params] = item.split(';').map((part) => part.trim().toLowerCase());
    if (coding !== 'gzip' && coding !== 'x-gzip') continue;
    const q = params.find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
