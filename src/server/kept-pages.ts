// The pull-through cache's pages of a project: rendered from upstream's kept listing with the mirror's own
// files, and, while upstream cannot be asked, from the files cached in the mirror only.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  hasKeptPage,
  keptMetadataPath,
  makeKeptPageDir,
  keptPageDir,
  listingWrittenAt,
  readListing,
  writeKeptPage,
  writeListing,
  type Listing,
} from '../mirror/store/upstream-pages.js';
import { renderProjectHtml, renderProjectJson } from '../pypi/render-pages.js';
import type { UpstreamFile } from '../upstream/simple-model.js';
import { buildProxyPage, keptFiles, localPageFiles } from './proxy-page.js';
import type { RemovedFiles } from './removed-files.js';

/** How long a listing read from disk is trusted before its file's mtime is checked again. */
const RECHECK_MS = 1000;

export interface KeptPagesOptions {
  dir: string;
  /** Files bigger than this (as upstream gives their size) are left off the pages. */
  maxFileBytes: number;
  /** A page was rewritten (forget the cached copy). */
  onPageWritten: (path: string) => void;
  /** Log a line the first time only. */
  logOnce: (line: string) => void;
  /** What `mirror remove` took out: left off every page. */
  removed: RemovedFiles;
}

export class KeptPages {
  readonly #options: KeptPagesOptions;
  /** Listings read, with the listing file's mtime then and when that was last checked (another process, `mirror cache --invalidate`, may rewrite it). */
  readonly #listings = new Map<string, { listing: Listing; writtenAt: number | undefined; checkedAt: number }>();
  /** Per project: what its cached-only page (served stale or offline) was last rendered from. */
  readonly #cachedOnlyKeys = new Map<string, string>();
  /** Per project: the removal record's stamp its whole page was rendered with. */
  readonly #removalStamps = new Map<string, string>();

  constructor(options: KeptPagesOptions) {
    this.#options = options;
  }

  /** The kept listing of `project`: from memory, its file re-checked at most once a second. */
  load(project: string): Listing | undefined {
    const now = Date.now();
    const cached = this.#listings.get(project);
    if (cached !== undefined) {
      if (now - cached.checkedAt < RECHECK_MS) return cached.listing;
      const writtenAt = listingWrittenAt(this.#options.dir, project);
      if (writtenAt === cached.writtenAt) {
        cached.checkedAt = now;
        return cached.listing;
      }
      this.#cachedOnlyKeys.delete(project);
    }
    const writtenAt = listingWrittenAt(this.#options.dir, project);
    const listing = readListing(this.#options.dir, project);
    if (listing === undefined) this.#listings.delete(project);
    else this.#listings.set(project, { listing, writtenAt, checkedAt: now });
    return listing;
  }

  /** Read the listing of `project` from disk again on its next use. */
  forget(project: string): void {
    this.#listings.delete(project);
    this.#cachedOnlyKeys.delete(project);
  }

  /** Write the listing and the pages rendered from it (with local-only files). */
  save(listing: Listing): void {
    this.#removalStamps.set(listing.project, this.#options.removed.current(listing.project).stamp);
    this.#writePages(listing, listing.files, keptPageDir(this.#options.dir, listing.project, 'whole'));
    writeListing(this.#options.dir, listing);
    this.#listings.set(listing.project, { listing, writtenAt: listingWrittenAt(this.#options.dir, listing.project), checkedAt: Date.now() });
    this.#cachedOnlyKeys.delete(listing.project);
  }

  /**
   * Render the pages of `listing` again when its project's removal record changed since they were (a removal
   * while the server runs, or one made before it started that pages kept from earlier do not know).
   */
  ensureRemovalsApplied(listing: Listing): void {
    const { stamp } = this.#options.removed.current(listing.project);
    const rendered = this.#removalStamps.get(listing.project);
    if (rendered === stamp || (rendered === undefined && stamp === 'none')) return;
    try {
      this.save(listing);
    } catch (error) {
      this.#removalStamps.set(listing.project, stamp); // a read-only DIR: told once, served as kept
      this.#options.logOnce(`cannot write the pages of ${listing.project} without its removed files: ${(error as Error).message}`);
    }
  }

  /** The directory of the pages of every file upstream lists. */
  wholeDir(project: string): string {
    return keptPageDir(this.#options.dir, project, 'whole');
  }

  /**
   * The pages served while upstream cannot be asked (stale, or --offline): upstream's files that are
   * cached in DIR/<project>/ only, so that pip picks the newest version it can get instead of one it
   * would fail to download. Metadata not kept is not advertised (pip then reads the wheel itself).
   * Rendered again only when the cached files changed.
   */
  cachedOnlyDir(listing: Listing): string {
    try {
      return this.#writeCachedOnly(listing);
    } catch (error) {
      // A read-only DIR (served --offline as it is): the whole kept page, as before, rather than no page.
      this.#options.logOnce(`cannot write the cached-only page of ${listing.project}, serving the whole kept page: ${(error as Error).message}`);
      return this.wholeDir(listing.project);
    }
  }

  /** The files of the mirror's own page of `project` (DIR/<project>/index.json), if it has one. */
  #localFiles(project: string): ReturnType<typeof localPageFiles> {
    const localJson = join(this.#options.dir, project, 'index.json');
    try {
      return existsSync(localJson) ? localPageFiles(readFileSync(localJson, 'utf8')) : [];
    } catch {
      return [];
    }
  }

  /** Render `files` (upstream's) with the local ones into `dir`'s index.html and index.json, each atomically. */
  #writePages(listing: Listing, files: readonly UpstreamFile[], dir: string): void {
    makeKeptPageDir(dir);
    const kept = files.filter((file) => !this.#options.removed.isRemoved(listing.project, file.filename));
    const { page, problems } = buildProxyPage(listing.project, kept, this.#localFiles(listing.project), { maxFileBytes: this.#options.maxFileBytes });
    for (const problem of problems) this.#options.logOnce(`upstream ${listing.upstream}: ${listing.project}: ${problem}`);
    writeKeptPage(dir, renderProjectHtml(page), renderProjectJson(page), this.#options.onPageWritten);
  }

  #writeCachedOnly(listing: Listing): string {
    const dir = keptPageDir(this.#options.dir, listing.project, 'cached');
    const projectDir = join(this.#options.dir, listing.project);
    let present: Set<string>;
    try {
      present = new Set(readdirSync(projectDir));
    } catch {
      present = new Set();
    }
    const files = keptFiles(
      listing.files,
      (name) => present.has(name) || (name.endsWith('.metadata') && existsSync(keptMetadataPath(this.#options.dir, listing.project, name))),
    );
    let localStamp = '';
    try {
      localStamp = String(statSync(join(projectDir, 'index.json')).mtimeMs);
    } catch {
      localStamp = 'none';
    }
    const key = `${listing.fetchedAt} ${localStamp} ${this.#options.removed.current(listing.project).stamp} ${files.map((f) => `${f.filename}${f.coreMetadata === undefined ? '' : '+m'}`).join(' ')}`;
    if (this.#cachedOnlyKeys.get(listing.project) !== key || !hasKeptPage(dir)) {
      this.#writePages(listing, files, dir);
      this.#cachedOnlyKeys.set(listing.project, key);
    }
    return dir;
  }
}
