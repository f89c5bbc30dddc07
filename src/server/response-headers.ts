// The headers of a page or file answer: its type, validators and how long caches keep it.
import type { DiskEntry } from './disk-cache.js';
import type { Representation } from './negotiate.js';

const PAGE_CACHE_CONTROL = 'max-age=0, must-revalidate';
const FILE_CACHE_CONTROL = 'public, max-age=3600';

/** A page's headers (ETag weak when gzipped); `extra` from the pull-through cache (e.g. served stale). */
export function pageHeaders(rep: Representation, entry: DiskEntry, gzip: boolean, extra?: Record<string, string>): Record<string, string> {
  return {
    'Content-Type': rep.contentType,
    Vary: 'Accept, Accept-Encoding',
    ETag: gzip ? `W/${entry.etag}` : entry.etag,
    'Last-Modified': entry.lastModified,
    'Cache-Control': PAGE_CACHE_CONTROL,
    ...extra,
  };
}

/** A file's headers: it answers Range requests. */
export function fileHeaders(filename: string, entry: DiskEntry): Record<string, string> {
  return {
    'Content-Type': fileContentType(filename),
    ETag: entry.etag,
    'Last-Modified': entry.lastModified,
    'Accept-Ranges': 'bytes',
    'Cache-Control': FILE_CACHE_CONTROL,
  };
}

function fileContentType(filename: string): string {
  return filename.endsWith('.metadata') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}
