// The common model of a simple index (PEP 503 HTML and PEP 691 JSON read into the same shapes), and its errors.
import { DibPypiError } from '../errors.js';

/** Hash algorithms PEP 503 allows in a link fragment (hashlib names), strongest sha-2 first. */
export const HASH_ALGORITHMS = ['sha256', 'sha512', 'sha384', 'sha224', 'sha1', 'md5'] as const;

/** One file of a project page, validated; `url` is absolute and without its hash fragment. */
export interface UpstreamFile {
  filename: string;
  url: string;
  /** Lower-case algorithm -> lower-case hex digest. */
  hashes: Record<string, string>;
  requiresPython?: string;
  /** PEP 592: true, or the reason (an HTML `data-yanked=""` is true). */
  yanked?: true | string;
  /** PEP 700 (JSON only). */
  size?: number;
  /** PEP 700 (JSON only): ISO 8601 as the upstream wrote it. */
  uploadTime?: string;
  /** PEP 658/714: metadata at `url + '.metadata'`; true when no hash was given. Legacy `dist-info-metadata` is read too. */
  coreMetadata?: true | Record<string, string>;
}

/** A project page: the files upstream lists, plus the entries it listed that could not be used. */
export interface ProjectPage {
  /** The name as the page gives it (JSON `name`), or as asked (HTML). */
  name: string;
  files: UpstreamFile[];
  /** PEP 700 (JSON only). */
  versions?: string[];
  /** Entries skipped, one line each (a bad URL, a file name with a path separator, a bad hash): never silently. */
  problems: string[];
}

/** The root page: project names as upstream spells them. */
export interface RootPage {
  projects: string[];
  problems: string[];
  /** `meta._dib-pypi-pages` of a JSON root page `mirror index` wrote: other whenever any project page is. */
  pagesDigest?: string;
}

export type PageFormat = 'json' | 'html';

/** What a page fetch gives: the page, "unchanged since the validators you sent", or "no such page". */
export type FetchOutcome<T> =
  | { kind: 'page'; page: T; format: PageFormat; validators: Validators; lastSerial?: number }
  | { kind: 'not-modified'; validators: Validators; lastSerial?: number }
  | { kind: 'missing'; status: number };

/** HTTP cache validators of a page, for conditional requests. */
export interface Validators {
  etag?: string;
  lastModified?: string;
}

/** A page that is not a valid simple-index page at all (bad JSON, wrong api-version, wrong shape): not the same as an empty one. */
export class MalformedPageError extends DibPypiError {
  readonly url: string;
  constructor(url: string, reason: string) {
    super(`malformed simple-index page ${url}: ${reason}`);
    this.url = url;
  }
}

/** The upstream failed: connection, timeout, HTTP status, or a download whose bytes do not match. */
export class UpstreamError extends DibPypiError {
  readonly url: string;
  readonly status: number | undefined;
  /** Worth retrying: connection reset/refused, timeout, 5xx, 429. */
  readonly isTransient: boolean;
  constructor(url: string, message: string, facts: { status?: number; isTransient: boolean; cause?: unknown }) {
    super(`${url}: ${message}`, { cause: facts.cause });
    this.url = url;
    this.status = facts.status;
    this.isTransient = facts.isTransient;
  }
}

/** The strongest sha-2 hash a file carries, to verify a download with; undefined when it has none. */
export function strongestHash(hashes: Record<string, string>): { algorithm: string; digest: string } | undefined {
  for (const algorithm of HASH_ALGORITHMS.slice(0, 4)) {
    const digest = hashes[algorithm];
    if (digest !== undefined) return { algorithm, digest };
  }
  return undefined;
}

/**
 * A file name we would write to disk, from an upstream page or an upload form: a bare name (no
 * separators, so no `..` path either), nothing hidden (`.` and `..` included), no control characters.
 */
export function isSafeFilename(name: string): boolean {
  return name !== '' && name.length <= 255 && !name.startsWith('.') && !/[/\\\0-\x1f]/.test(name);
}

const HEX = /^[0-9a-f]+$/;
const HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128, sha384: 96, sha224: 56, sha1: 40, md5: 32 };

/** A hash as a page gives it, checked: known algorithm, hex of the right length. Returns a problem or the normalised pair. */
export function checkHash(algorithm: string, digest: string): { algorithm: string; digest: string } | string {
  const name = algorithm.toLowerCase();
  const hex = digest.toLowerCase();
  const length = HEX_LENGTH[name];
  if (length === undefined) return `unknown hash algorithm ${JSON.stringify(algorithm)}`;
  if (hex.length !== length || !HEX.test(hex)) return `bad ${name} digest ${JSON.stringify(digest)}`;
  return { algorithm: name, digest: hex };
}
