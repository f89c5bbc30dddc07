// The pull-through cache: project pages from the upstream index (kept, with a TTL, served stale when
// upstream fails), files downloaded on first request, streamed to the client while written, verified
// against upstream's sha256 and stored in the mirror layout, so that the cache is itself a mirror.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileBelongsTo } from '../mirror/store/file-owner.js';
import { distPath, privateMarker } from '../mirror/store/layout.js';
import { invalidateListing, keptMetadataPath, type Listing } from '../mirror/store/upstream-pages.js';
import { redact } from '../redact.js';
import { MalformedPageError, UpstreamError } from '../upstream/simple-model.js';
import type { Fallback, MissingFileOutcome, PagePlan } from './app.js';
import type { ProxyState } from './health.js';
import { KeptPages } from './kept-pages.js';
import { RemovedFiles } from './removed-files.js';
import { connectUpstream, fetchIntoMirror, type FetchHooks, type Upstream } from './proxy-fetch.js';
import { sendError, toHeaderText } from './respond.js';

export interface ProxyOptions {
  dir: string;
  /** Index URLs, tried in order; the first that has a project serves all of it (never merged: no dependency confusion between upstreams). */
  upstreams: string[];
  /** How long a fetched project page is fresh. */
  ttlMs: number;
  /** Upstream request timeout (no headers, or no body bytes, for this long). */
  timeoutMs: number;
  /** Never contact upstream: serve what is kept. */
  offline: boolean;
  /** The largest upstream page read, and the largest file fetched (bytes). */
  maxPageBytes: number;
  maxFileBytes: number;
  /** Projects with private uploads that may still be proxied (normalised names). */
  allowUpstream: ReadonlySet<string>;
  /** A file was stored as DIR/<project>/<filename> (re-index soon), a page was rewritten (forget the cached copy). */
  onStored: (project: string, filename: string) => void;
  onPageWritten: (path: string) => void;
  log?: (line: string) => void;
  /** A file of DIR was served (for the order of eviction). */
  onServed?: (project: string, filename: string) => void;
  /** Each request to an upstream (a page fetch with its retries, a whole file download): how long, and whether it failed. */
  onUpstreamRequest?: (kind: 'page' | 'file', seconds: number, isOk: boolean) => void;
}

type Refresh = { kind: 'listing'; listing: Listing } | { kind: 'missing' } | { kind: 'failed'; error: string };

const CIRCUIT_MS = 15_000;
/** Lines logged once (a foreign file on a page is told once, not on every refresh or request); forgotten past this many. */
const MAX_LOGGED_ONCE = 10_000;

export class PullThroughCache implements Fallback {
  readonly #options: ProxyOptions;
  readonly #upstreams: Upstream[];
  readonly #pages: KeptPages;
  readonly #fetchHooks: FetchHooks;
  readonly #refreshing = new Map<string, Promise<Refresh>>();
  readonly #downloading = new Map<string, Promise<boolean>>();
  readonly #loggedOnce = new Set<string>();
  readonly #log: (line: string) => void;
  readonly #removed: RemovedFiles;

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.#log = (line) => options.log?.(toLogText(line));
    this.#removed = new RemovedFiles(options.dir);
    this.#pages = new KeptPages({
      removed: this.#removed,
      dir: options.dir,
      maxFileBytes: options.maxFileBytes,
      onPageWritten: options.onPageWritten,
      logOnce: (line) => this.#logOnce(line),
    });
    this.#upstreams = options.upstreams.map((raw) => connectUpstream(raw, options));
    this.#fetchHooks = {
      maxFileBytes: options.maxFileBytes,
      log: this.#log,
      onUpstreamRequest: options.onUpstreamRequest,
      onStored: (project, filename) => options.onStored(project, filename),
    };
  }

  /** For /health: each upstream (no credentials) and whether it is answering. */
  status(): ProxyState {
    const now = Date.now();
    return {
      offline: this.#options.offline,
      upstreams: this.#upstreams.map((u) => ({
        url: u.url.display,
        state: this.#options.offline ? 'not contacted' : u.downUntil > now ? 'down' : 'up',
        ...(u.lastError ? { lastError: u.lastError } : {}),
      })),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#upstreams.flatMap((u) => [u.client.close(), u.transport.close()]));
  }

  /** Dependency-confusion guard: a project with private uploads is served from here only. */
  #isPrivate(project: string): boolean {
    return !this.#options.allowUpstream.has(project) && existsSync(privateMarker(this.#options.dir, project));
  }

  /** Log a line the first time only (a bad upstream entry would otherwise be told on every refresh). */
  #logOnce(line: string): void {
    if (this.#loggedOnce.has(line)) return;
    if (this.#loggedOnce.size >= MAX_LOGGED_ONCE) this.#loggedOnce.clear();
    this.#loggedOnce.add(line);
    this.#log(line);
  }

  #plan(listing: Listing, state: 'hit' | 'refreshed' | 'stale' | 'offline', error?: string): PagePlan {
    const headers: Record<string, string> = { 'X-Dib-Pypi-Cache': state };
    const isOld = Date.now() - listing.fetchedAt >= this.#options.ttlMs;
    if (state === 'stale' || (state === 'offline' && isOld)) headers.Warning = '110 dib-pypi "Response is Stale"';
    if (error !== undefined) headers['X-Dib-Pypi-Upstream-Error'] = toHeaderText(redact(error));
    this.#pages.ensureRemovalsApplied(listing);
    const dir = state === 'stale' || state === 'offline' ? this.#pages.cachedOnlyDir(listing) : this.#pages.wholeDir(listing.project);
    return { dir, headers };
  }

  /**
   * The mirror's own files of `project` changed (an upload, re-indexed): its merged page is rendered
   * again from the cached listing at once, without asking upstream, so the new file shows before the TTL ends.
   */
  localFilesChanged(project: string): void {
    if (this.#isPrivate(project) || this.#removed.isWholeProject(project)) return; // served from the mirror's own pages
    const listing = this.#pages.load(project);
    if (listing !== undefined) this.#pages.save(listing);
  }

  /** Make the kept page of `project` stale at once (the next request fetches it from upstream in full); false when none is kept. */
  invalidate(project: string): boolean {
    const isKept = invalidateListing(this.#options.dir, project);
    this.#pages.forget(project);
    return isKept;
  }

  fileServed(project: string, filename: string): void {
    this.#options.onServed?.(project, filename);
  }

  async preparePage(project: string): Promise<PagePlan | undefined> {
    if (this.#isPrivate(project)) return { headers: { 'X-Dib-Pypi-Cache': 'private' } };
    if (this.#removed.isWholeProject(project)) return undefined; // removed by mirror remove: the mirror's own page, if any
    const listing = this.#pages.load(project);
    if (this.#options.offline) return listing === undefined ? undefined : this.#plan(listing, 'offline');
    if (listing !== undefined && Date.now() - listing.fetchedAt < this.#options.ttlMs) return this.#plan(listing, 'hit');
    let refreshing = this.#refreshing.get(project);
    if (refreshing === undefined) {
      refreshing = this.#refresh(project, listing).finally(() => this.#refreshing.delete(project));
      this.#refreshing.set(project, refreshing);
    }
    // With a page kept, a request waits --timeout at most, retries included; the refresh goes on meanwhile for the next one.
    const outcome = listing === undefined ? await refreshing : await withinTime(refreshing, this.#options.timeoutMs);
    if (outcome.kind === 'listing') return this.#plan(outcome.listing, 'refreshed');
    if (outcome.kind === 'missing') return undefined;
    if (listing !== undefined) return this.#plan(listing, 'stale', outcome.error);
    return { unavailable: `upstream unavailable and ${project} not cached: ${redact(outcome.error)}` };
  }

  async #refresh(project: string, previous: Listing | undefined): Promise<Refresh> {
    const errors: string[] = [];
    const now = Date.now();
    for (const upstream of this.#upstreams) {
      if (upstream.downUntil > now) {
        errors.push(`${upstream.url.display}: down (${upstream.lastError ?? 'failed'}); retried after ${Math.ceil((upstream.downUntil - now) / 1000)} s`);
        continue;
      }
      const validators = previous?.upstream === upstream.url.display ? previous.validators : undefined;
      const startedAt = performance.now();
      try {
        const outcome = await upstream.client.fetchProject(project, validators);
        this.#options.onUpstreamRequest?.('page', (performance.now() - startedAt) / 1000, true);
        upstream.lastError = undefined;
        if (outcome.kind === 'missing') continue;
        if (outcome.kind === 'not-modified' && previous !== undefined) {
          const listing = { ...previous, fetchedAt: Date.now(), validators: outcome.validators };
          this.#pages.save(listing);
          return { kind: 'listing', listing };
        }
        if (outcome.kind === 'page') {
          const listing: Listing = {
            project,
            upstream: upstream.url.display,
            fetchedAt: Date.now(),
            validators: outcome.validators,
            files: outcome.page.files,
          };
          this.#pages.save(listing);
          return { kind: 'listing', listing };
        }
      } catch (error) {
        if (!(error instanceof UpstreamError) && !(error instanceof MalformedPageError)) throw error;
        this.#options.onUpstreamRequest?.('page', (performance.now() - startedAt) / 1000, false);
        const message = redact(error.message);
        upstream.lastError = message;
        if (error instanceof MalformedPageError || error.isTransient) upstream.downUntil = Date.now() + Math.min(CIRCUIT_MS, this.#options.ttlMs);
        this.#log(`upstream failed: ${message}`);
        errors.push(message);
      }
    }
    return errors.length === 0 ? { kind: 'missing' } : { kind: 'failed', error: errors.join('; ') };
  }

  async serveMissingFile(project: string, filename: string, req: IncomingMessage, res: ServerResponse): Promise<MissingFileOutcome> {
    if (this.#isPrivate(project)) return 'unknown';
    const isMetadata = filename.endsWith('.metadata');
    const distName = isMetadata ? filename.slice(0, -'.metadata'.length) : filename;
    if (this.#removed.isRemoved(project, distName)) return 'unknown'; // removed by mirror remove: never fetched back
    let listing = this.#pages.load(project);
    // A file is fetched and stored under the project its name says only: upstream is not even asked for another's.
    if (!fileBelongsTo(distName, project)) {
      if (listing?.files.some((f) => f.filename === distName) === true)
        this.#logOnce(`upstream ${listing.upstream}: ${project}: ${distName}: a file of another project, not fetched`);
      return 'unknown';
    }
    if (listing === undefined || !listing.files.some((f) => f.filename === distName)) {
      await this.preparePage(project);
      listing = this.#pages.load(project);
    }
    const file = listing?.files.find((f) => f.filename === distName);
    const upstream = this.#upstreams.find((u) => u.url.display === listing?.upstream);
    if (file === undefined || upstream === undefined || file.hashes.sha256 === undefined) return 'unknown';
    if (this.#options.offline) {
      sendError(req, res, 504, `${project}/${filename} is not cached, and this server is offline`);
      return 'handled';
    }
    if (isMetadata) {
      const sha256 = typeof file.coreMetadata === 'object' ? file.coreMetadata.sha256 : undefined;
      if (sha256 === undefined) return 'unknown';
      const target = keptMetadataPath(this.#options.dir, project, filename);
      if (existsSync(target)) return { path: target };
      const ok = await this.#once(target, () => fetchIntoMirror({ upstream, project, url: `${file.url}.metadata`, sha256, target }, this.#fetchHooks));
      if (ok) return { path: target };
      sendError(req, res, 502, `cannot fetch ${project}/${filename} from upstream (see the server's log)`);
      return 'handled';
    }
    const target = distPath(this.#options.dir, project, filename);
    const running = this.#downloading.get(target);
    // The first plain GET streams the download to its client; every other request waits for the file.
    const streamTo = running === undefined && req.method === 'GET' && req.headers.range === undefined ? res : undefined;
    const ok = await this.#once(target, () =>
      fetchIntoMirror(
        { upstream, project, url: file.url, sha256: file.hashes.sha256 as string, size: file.size, target, res: streamTo, file },
        this.#fetchHooks,
      ),
    );
    if (streamTo !== undefined) return 'handled';
    if (ok) return 'stored';
    sendError(req, res, 502, `cannot fetch ${project}/${filename} from upstream (see the server's log)`);
    return 'handled';
  }

  /** One download per target at a time: concurrent requests share it. */
  #once(target: string, start: () => Promise<boolean>): Promise<boolean> {
    let running = this.#downloading.get(target);
    if (running === undefined) {
      running = start().finally(() => this.#downloading.delete(target));
      this.#downloading.set(target, running);
    }
    return running;
  }
}

/** A log line with upstream text in it, made safe for a terminal: control characters (escape sequences, CR) become `?`. */
export function toLogText(line: string): string {
  return line.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, '?');
}

/** The refresh's outcome, or a failure saying it did not come within `ms` (the refresh itself goes on). */
function withinTime(refreshing: Promise<Refresh>, ms: number): Promise<Refresh> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Refresh>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'failed', error: `no answer from upstream within ${ms / 1000} s` }), ms);
  });
  return Promise.race([refreshing, late]).finally(() => clearTimeout(timer));
}
