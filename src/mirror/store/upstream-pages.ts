// What the pull-through cache keeps of upstream's project pages, under `DIR/.dib-pypi/upstream/<project>/`:
// the listing (`listing.json`), the pages rendered from it (`index.html`, `index.json`), the pages of the
// files cached so far (`cached/`) and fetched `.metadata` files.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../../fs/replace-file.js';
import type { UpstreamFile, Validators } from '../../upstream/simple-model.js';
import { STATE_DIR, upstreamStateDir } from './layout.js';

/** What is kept of an upstream project page. */
export interface Listing {
  project: string;
  /** The upstream's URL, without credentials. */
  upstream: string;
  fetchedAt: number;
  validators: Validators;
  files: UpstreamFile[];
}

const LISTING_VERSION = 1;

/** The kept listing of `project`; undefined when there is none, or it is of another version or project, or unreadable. */
export function readListing(dir: string, project: string): Listing | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(upstreamStateDir(dir, project), 'listing.json'), 'utf8')) as Listing & { version: number };
    if (parsed.version !== LISTING_VERSION || parsed.project !== project || !Array.isArray(parsed.files)) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

/**
 * Make the kept page of `project` stale at once, with no validators: the next request fetches it from
 * upstream in full (a running server notices the listing changed within a second). False when none is kept.
 */
export function invalidateListing(dir: string, project: string): boolean {
  const listing = readListing(dir, project);
  if (listing === undefined) return false;
  writeListing(dir, { ...listing, fetchedAt: 0, validators: {} });
  return true;
}

/** The projects with a kept upstream page. */
export function keptProjects(dir: string): string[] {
  try {
    return readdirSync(join(dir, STATE_DIR, 'upstream'))
      .filter((name) => existsSync(join(upstreamStateDir(dir, name), 'listing.json')))
      .sort();
  } catch {
    return [];
  }
}

/** When the kept listing of `project` was last written (ms), or undefined when there is none. */
export function listingWrittenAt(dir: string, project: string): number | undefined {
  try {
    return statSync(join(upstreamStateDir(dir, project), 'listing.json')).mtimeMs;
  } catch {
    return undefined;
  }
}

export function writeListing(dir: string, listing: Listing): void {
  replaceFile(join(upstreamStateDir(dir, listing.project), 'listing.json'), `${JSON.stringify({ version: LISTING_VERSION, ...listing })}\n`);
}

/** The directory of the pages of every file upstream lists (`whole`), or of the files cached in the mirror only (`cached`). */
export function keptPageDir(dir: string, project: string, kind: 'whole' | 'cached'): string {
  const state = upstreamStateDir(dir, project);
  return kind === 'whole' ? state : join(state, 'cached');
}

/** Whether the cached-only page of `project` has been written. */
export function hasKeptPage(pageDir: string): boolean {
  return existsSync(join(pageDir, 'index.json'));
}

export function makeKeptPageDir(pageDir: string): void {
  mkdirSync(pageDir, { recursive: true });
}

/** Write a page pair into `pageDir` (made by makeKeptPageDir), each atomically for readers, telling `onWritten` each path at once. */
export function writeKeptPage(pageDir: string, html: string, json: string, onWritten: (path: string) => void): void {
  for (const [name, text] of [
    ['index.html', html],
    ['index.json', json],
  ] as const) {
    replaceFile(join(pageDir, name), text);
    onWritten(join(pageDir, name));
  }
}

/** Where a fetched `<file>.metadata` is kept (never beside the file: the index writes its own there). */
export function keptMetadataPath(dir: string, project: string, name: string): string {
  return join(upstreamStateDir(dir, project), name);
}
