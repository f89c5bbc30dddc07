// The pull-through cache: project pages from the upstream index (kept, with a TTL, served stale when
// upstream fails), files downloaded on first request, streamed to the client while written, verified
// against upstream's sha256 and stored in the mirror layout, so that the cache is itself a mirror.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fsyncPath } from '../fs/atomic-write.js';
import { replaceFile } from '../fs/replace-file.js';
import { STATE_DIR } from '../mirror/store/manifest.js';
import { projectOfRecord } from '../mirror/index/build-pages.js';
import { parseDistFilename } from '../pypi/dist-filename.js';
import { BrokenDistributionError } from '../pypi/errors.js';
import { inspectDistribution } from '../mirror/inspect/inspect-distribution.js';
import type { DistFilename } from '../pypi/types.js';
import { renderProjectHtml, renderProjectJson } from '../pypi/render-pages.js';
import { redact } from '../redact.js';
import { downloadVerified, HashMismatchError, type DownloadTee } from '../upstream/download-file.js';
import { HttpTransport } from '../upstream/http-transport.js';
import { SimpleIndexClient } from '../upstream/simple-client.js';
import { MalformedPageError, UpstreamError, type UpstreamFile, type Validators } from '../upstream/simple-model.js';
import { authHeaders, parseUpstreamUrl, type UpstreamUrl } from '../upstream/upstream-url.js';
import type { Fallback, MissingFileOutcome, PagePlan } from './app.js';
import { buildProxyPage, fileBelongsTo, keptFiles, localPageFiles } from './proxy-page.js';
import type { ProxyState } from './health.js';
import { privateMarker } from './upload.js';
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
  /** A file was stored (re-index soon), a page was rewritten (forget the cached copy). */
  onStored: () => void;
  onPageWritten: (path: string) => void;
  log?: (line: string) => void;
  /** Each request to an upstream (a page fetch with its retries, a whole file download): how long, and whether it failed. */
  onUpstreamRequest?: (kind: 'page' | 'file', seconds: number, isOk: boolean) => void;
}

/** What is kept of an upstream project page: `.dib-pypi/upstream/<project>/listing.json`. */
interface Listing {
  project: string;
  /** The upstream's URL, without credentials. */
  upstream: string;
  fetchedAt: number;
  validators: Validators;
  files: UpstreamFile[];
}

interface Upstream {
  url: UpstreamUrl;
  client: SimpleIndexClient;
  transport: HttpTransport;
  /** Circuit breaker: after a failure the upstream counts as down until then. */
  downUntil: number;
  lastError?: string;
}

type Refresh = { kind: 'listing'; listing: Listing } | { kind: 'missing' } | { kind: 'failed'; error: string };

const LISTING_VERSION = 1;
const CIRCUIT_MS = 15_000;
const PAGE_RETRY = { retries: 1, baseDelayMs: 100, maxDelayMs: 500 };
/** The longest one attempt at a page may take in the background (a request waits --timeout at most when a page is kept). */
const pageAttemptMs = (timeoutMs: number) => Math.max(60_000, 6 * timeoutMs);
/** Lines logged once (a foreign file on a page is told once, not on every refresh or request); forgotten past this many. */
const MAX_LOGGED_ONCE = 10_000;

export class PullThroughCache implements Fallback {
  readonly #options: ProxyOptions;
  readonly #upstreams: Upstream[];
  readonly #listings = new Map<string, Listing>();
  readonly #refreshing = new Map<string, Promise<Refresh>>();
  readonly #downloading = new Map<string, Promise<boolean>>();
  readonly #loggedOnce = new Set<string>();
  readonly #log: (line: string) => void;
  /** Per project: what its cached-only page (served stale or offline) was last rendered from. */
  readonly #cachedOnlyKeys = new Map<string, string>();

  constructor(options: ProxyOptions) {
    this.#options = options;
    this.#log = (line) => options.log?.(toLogText(line));
    this.#upstreams = options.upstreams.map((raw) => {
      const url = parseUpstreamUrl(raw);
      return {
        url,
        client: new SimpleIndexClient({
          url: raw,
          timeoutMs: options.timeoutMs,
          connections: 16,
          retry: PAGE_RETRY,
          userAgent: 'dib-pypi-serve',
          maxPageBytes: options.maxPageBytes,
          pageAttemptMs: pageAttemptMs(options.timeoutMs),
        }),
        transport: new HttpTransport({ connections: 16, timeoutMs: options.timeoutMs, userAgent: 'dib-pypi-serve' }),
        downUntil: 0,
      };
    });
  }

  /** For /health: each upstream (no credentials) and whether it is answering. */
  status(): ProxyState {
    const now = Date.now();
    return {
      offline: this.#options.offline,
      upstreams: this.#upstreams.map((u) => ({ url: u.url.display, state: this.#options.offline ? 'not contacted' : u.downUntil > now ? 'down' : 'up', ...(u.lastError ? { lastError: u.lastError } : {}) })),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.#upstreams.flatMap((u) => [u.client.close(), u.transport.close()]));
  }

  #stateDir(project: string): string {
    return join(this.#options.dir, STATE_DIR, 'upstream', project);
  }

  /** Dependency-confusion guard: a project with private uploads is served from here only. */
  #isPrivate(project: string): boolean {
    return !this.#options.allowUpstream.has(project) && existsSync(privateMarker(this.#options.dir, project));
  }

  #load(project: string): Listing | undefined {
    const cached = this.#listings.get(project);
    if (cached !== undefined) return cached;
    try {
      const parsed = JSON.parse(readFileSync(join(this.#stateDir(project), 'listing.json'), 'utf8')) as Listing & { version: number };
      if (parsed.version !== LISTING_VERSION || parsed.project !== project || !Array.isArray(parsed.files)) return undefined;
      this.#listings.set(project, parsed);
      return parsed;
    } catch {
      return undefined;
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
    mkdirSync(dir, { recursive: true });
    const { page, problems } = buildProxyPage(listing.project, files, this.#localFiles(listing.project), { maxFileBytes: this.#options.maxFileBytes });
    for (const problem of problems) this.#logOnce(`upstream ${listing.upstream}: ${listing.project}: ${problem}`);
    for (const [name, text] of [['index.html', renderProjectHtml(page)], ['index.json', renderProjectJson(page)]] as const) {
      replaceFile(join(dir, name), text);
      this.#options.onPageWritten(join(dir, name));
    }
  }

  /** Write the listing and the pages rendered from it (with local-only files). */
  #save(listing: Listing): void {
    const dir = this.#stateDir(listing.project);
    this.#writePages(listing, listing.files, dir);
    replaceFile(join(dir, 'listing.json'), `${JSON.stringify({ version: LISTING_VERSION, ...listing })}\n`);
    this.#listings.set(listing.project, listing);
    this.#cachedOnlyKeys.delete(listing.project);
  }

  /**
   * The pages served while upstream cannot be asked (stale, or --offline): upstream's files that are
   * cached in DIR/<project>/ only, so that pip picks the newest version it can get instead of one it
   * would fail to download. Metadata not kept is not advertised (pip then reads the wheel itself).
   * Rendered again only when the cached files changed.
   */
  #cachedOnlyDir(listing: Listing): string {
    try {
      return this.#writeCachedOnly(listing);
    } catch (error) {
      // A read-only DIR (served --offline as it is): the whole kept page, as before, rather than no page.
      this.#logOnce(`cannot write the cached-only page of ${listing.project}, serving the whole kept page: ${(error as Error).message}`);
      return this.#stateDir(listing.project);
    }
  }

  #writeCachedOnly(listing: Listing): string {
    const dir = join(this.#stateDir(listing.project), 'cached');
    const projectDir = join(this.#options.dir, listing.project);
    let present: Set<string>;
    try {
      present = new Set(readdirSync(projectDir));
    } catch {
      present = new Set();
    }
    const stateDir = this.#stateDir(listing.project);
    const files = keptFiles(listing.files, (name) => present.has(name) || (name.endsWith('.metadata') && existsSync(join(stateDir, name))));
    let localStamp = '';
    try {
      localStamp = String(statSync(join(projectDir, 'index.json')).mtimeMs);
    } catch {
      localStamp = 'none';
    }
    const key = `${listing.fetchedAt} ${localStamp} ${files.map((f) => `${f.filename}${f.coreMetadata === undefined ? '' : '+m'}`).join(' ')}`;
    if (this.#cachedOnlyKeys.get(listing.project) !== key || !existsSync(join(dir, 'index.json'))) {
      this.#writePages(listing, files, dir);
      this.#cachedOnlyKeys.set(listing.project, key);
    }
    return dir;
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
    const dir = state === 'stale' || state === 'offline' ? this.#cachedOnlyDir(listing) : this.#stateDir(listing.project);
    return { dir, headers };
  }

  /**
   * The mirror's own files of `project` changed (an upload, re-indexed): its merged page is rendered
   * again from the cached listing at once, without asking upstream, so the new file shows before the TTL ends.
   */
  localFilesChanged(project: string): void {
    if (this.#isPrivate(project)) return; // served from the mirror's own pages
    const listing = this.#load(project);
    if (listing !== undefined) this.#save(listing);
  }

  async preparePage(project: string): Promise<PagePlan | undefined> {
    if (this.#isPrivate(project)) return { headers: { 'X-Dib-Pypi-Cache': 'private' } };
    const listing = this.#load(project);
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
          this.#save(listing);
          return { kind: 'listing', listing };
        }
        if (outcome.kind === 'page') {
          const listing: Listing = { project, upstream: upstream.url.display, fetchedAt: Date.now(), validators: outcome.validators, files: outcome.page.files };
          this.#save(listing);
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
    let listing = this.#load(project);
    // A file is fetched and stored under the project its name says only: upstream is not even asked for another's.
    if (!fileBelongsTo(distName, project)) {
      if (listing?.files.some((f) => f.filename === distName) === true) this.#logOnce(`upstream ${listing.upstream}: ${project}: ${distName}: a file of another project, not fetched`);
      return 'unknown';
    }
    if (listing === undefined || !listing.files.some((f) => f.filename === distName)) {
      await this.preparePage(project);
      listing = this.#load(project);
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
      const target = join(this.#stateDir(project), filename);
      if (existsSync(target)) return { path: target };
      const ok = await this.#once(target, () => this.#download(upstream, project, `${file.url}.metadata`, sha256, undefined, target, undefined));
      if (ok) return { path: target };
      sendError(req, res, 502, `cannot fetch ${project}/${filename} from upstream (see the server's log)`);
      return 'handled';
    }
    const target = join(this.#options.dir, project, filename);
    const running = this.#downloading.get(target);
    // The first plain GET streams the download to its client; every other request waits for the file.
    const streamTo = running === undefined && req.method === 'GET' && req.headers.range === undefined ? res : undefined;
    const ok = await this.#once(target, () => this.#download(upstream, project, file.url, file.hashes.sha256 as string, file.size, target, streamTo, file));
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

  /**
   * Download `url` into `target` through a temp file (`.<name>.part-*`), hashing as it streams and
   * copying to `res` when given; renamed into place only when the sha256 (and size) match. On any
   * failure the temp is removed and `res`, if streaming, is cut off so the client cannot take the
   * bytes for a whole file.
   */
  async #download(upstream: Upstream, project: string, url: string, sha256: string, size: number | undefined, target: string, res: ServerResponse | undefined, file?: UpstreamFile): Promise<boolean> {
    let isDone = false;
    const startedAt = performance.now();
    try {
      const tee: DownloadTee | undefined =
        res === undefined
          ? undefined
          : {
              start: (announced) => res.writeHead(200, { 'Content-Type': 'application/octet-stream', ...(announced === undefined ? {} : { 'Content-Length': String(announced) }), 'X-Dib-Pypi-Cache': 'miss' }),
              // Only a full socket buffer holds the upstream connection (a promise for every chunk would pause it each time).
              write: (data) => (res.destroyed || res.write(data) ? undefined : drainedOrClosed(res)),
            };
      const sdist = file === undefined ? undefined : parseDistFilename(file.filename);
      const isSdist = sdist?.kind === 'sdist';
      const result = await downloadVerified(upstream.transport, {
        url,
        target,
        algorithm: 'sha256',
        digest: sha256,
        maxBytes: this.#options.maxFileBytes,
        ...(size === undefined ? {} : { size }),
        headers: authHeaders(upstream.url, url),
        makeParent: true,
        ...(tee === undefined ? {} : { tee }),
        ...(isSdist ? { commit: 'keep-temp' as const } : {}),
      });
      if (isSdist && result.temp !== undefined) await commitSdist(result.temp, target, sdist, project);
      if (file?.uploadTime !== undefined) replaceFile(`${target}.upload-time`, `${file.uploadTime}\n`);
      if (file?.yanked !== undefined) replaceFile(`${target}.yanked`, file.yanked === true ? '' : file.yanked);
      fsyncPath(join(target, '..'));
      isDone = true;
      this.#options.onUpstreamRequest?.('file', (performance.now() - startedAt) / 1000, true);
      if (result.heldBack !== undefined && res !== undefined && !res.destroyed) res.write(result.heldBack);
      res?.end();
      this.#log(`cached ${project}/${target.split('/').pop()} from ${upstream.url.display} (${result.bytes} bytes)`);
      if (file !== undefined) this.#options.onStored();
      return true;
    } catch (error) {
      const message = redact(error instanceof Error ? error.message : String(error));
      this.#options.onUpstreamRequest?.('file', (performance.now() - startedAt) / 1000, false);
      this.#log(`download failed, nothing kept: ${message}`);
      if (error instanceof UpstreamError && error.isTransient && !(error instanceof HashMismatchError)) {
        upstream.lastError = message;
      }
      if (res !== undefined && !res.headersSent) sendError(res.req, res, 502, `upstream download failed: ${message}`);
      return false;
    } finally {
      if (res !== undefined && !isDone && res.headersSent && !res.writableEnded) res.destroy();
    }
  }
}

/**
 * Put a verified sdist in place unless `mirror index` would list it on another project's page: for a
 * legacy name such as `foo-bar-1.0.tar.gz` it takes the project from PKG-INFO when pip's reading of the
 * name allows that project (`foo`, version `bar-1.0`), so a file of upstream's `foo-bar` could show on
 * this mirror's (maybe private) `foo`. The temp file is removed whatever happens but the rename.
 */
async function commitSdist(temp: string, target: string, filename: DistFilename, project: string): Promise<void> {
  let isPlaced = false;
  try {
    let owner = project;
    try {
      const inspected = await inspectDistribution(target, filename, temp);
      owner = projectOfRecord(basename(target), filename, inspected.core);
    } catch (error) {
      if (!(error instanceof BrokenDistributionError)) throw error; // a broken sdist is indexed by its name: this project
    }
    if (owner !== project) throw new UpstreamError(basename(target), `its PKG-INFO makes it a file of ${owner}, not of ${project}: not kept`, { isTransient: false });
    fsyncPath(temp);
    await rename(temp, target);
    isPlaced = true;
  } finally {
    if (!isPlaced) await rm(temp, { force: true });
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

/** Resolves when `res` drains or closes; neither listener outlives it (a long download drains many times). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
