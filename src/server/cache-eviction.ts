// The pull-through cache's size limit: files it downloaded are counted (receipts in the store), their
// use is remembered, and past the limit the least recently used are evicted. Uploads and synced files
// have no receipt and are never touched. An evicted file is fetched again on its next request while
// upstream answers; offline, pages list only what is still cached (kept-pages.ts), so pip never gets a
// link it cannot download.
import { evictCachedFile, readReceipts, touchReceipt, writeReceipt } from '../mirror/store/cache-receipts.js';
import { CacheBudget } from './cache-budget.js';

/** A served file's receipt is rewritten at most this often (its order among others does not need more). */
const TOUCH_EVERY_MS = 60_000;

export interface CacheEvictionOptions {
  dir: string;
  /** The limit in bytes; undefined: none (files are still counted, for the statistics). */
  maxBytes?: number;
  /** These files were evicted (their projects must be re-indexed and their pages rendered again). */
  onEvicted: (files: readonly { project: string; filename: string }[]) => void;
  log: (line: string) => void;
}

export interface CacheStats {
  files: number;
  bytes: number;
  maxBytes: number | null;
  evictedFiles: number;
  evictedBytes: number;
}

export class CacheEviction {
  readonly #options: CacheEvictionOptions;
  readonly #budget: CacheBudget;
  #evictedFiles = 0;
  #evictedBytes = 0;

  /** Counts what the cache holds (its receipts); `enforce` then evicts what is over the limit. */
  constructor(options: CacheEvictionOptions) {
    this.#options = options;
    this.#budget = new CacheBudget(options.maxBytes ?? Number.POSITIVE_INFINITY);
    for (const receipt of readReceipts(options.dir)) {
      this.#budget.add({ key: `${receipt.project}/${receipt.filename}`, bytes: receipt.bytes, lastUsed: receipt.lastUsed });
    }
  }

  /** Evict now what is over the limit (at start: the limit may have been lowered since the files were stored). */
  enforce(): void {
    this.#evict(undefined);
  }

  stats(): CacheStats {
    return {
      files: this.#budget.files,
      bytes: this.#budget.bytes,
      maxBytes: this.#options.maxBytes ?? null,
      evictedFiles: this.#evictedFiles,
      evictedBytes: this.#evictedBytes,
    };
  }

  /** The cache stored `DIR/<project>/<filename>`: count it, and make room if the cache is now over its limit. */
  stored(project: string, filename: string): void {
    let receipt: ReturnType<typeof writeReceipt>;
    try {
      receipt = writeReceipt(this.#options.dir, project, filename);
    } catch (error) {
      this.#options.log(`warning: cannot record ${project}/${filename} as cached (it will not be evicted): ${(error as Error).message}`);
      return;
    }
    if (receipt === undefined) return;
    const key = `${project}/${filename}`;
    this.#budget.add({ key, bytes: receipt.bytes, lastUsed: receipt.lastUsed });
    this.#evict(key);
  }

  /** These paths (relative to DIR: `<project>/<file>`, or a whole `<project>`) were removed from the mirror: their files no longer count. */
  forget(paths: readonly string[]): void {
    const projects = new Set(paths.filter((path) => !path.includes('/')).map((path) => `${path}/`));
    for (const path of paths) this.#budget.remove(path);
    if (projects.size === 0) return;
    for (const key of [...this.#budget.keys()]) if (projects.has(key.slice(0, key.indexOf('/') + 1))) this.#budget.remove(key);
  }

  /** A file was served from DIR: when it is one the cache downloaded, it is now the most recently used. */
  served(project: string, filename: string): void {
    const now = Date.now();
    const previous = this.#budget.touch(`${project}/${filename}`, now);
    if (previous !== undefined && now - previous >= TOUCH_EVERY_MS) touchReceipt(this.#options.dir, project, filename, new Date(now));
  }

  #evict(keep: string | undefined): void {
    const victims = this.#budget.victims(keep);
    if (victims.length === 0) return;
    const evicted: { project: string; filename: string }[] = [];
    for (const victim of victims) {
      const slash = victim.key.indexOf('/');
      const project = victim.key.slice(0, slash);
      const filename = victim.key.slice(slash + 1);
      this.#budget.remove(victim.key);
      try {
        if (!evictCachedFile(this.#options.dir, project, filename)) continue;
      } catch (error) {
        this.#options.log(`warning: cannot evict ${victim.key}: ${(error as Error).message}`);
        continue;
      }
      this.#evictedFiles += 1;
      this.#evictedBytes += victim.bytes;
      evicted.push({ project, filename });
    }
    if (evicted.length === 0) return;
    this.#options.log(
      `cache over ${this.#options.maxBytes} bytes: evicted ${evicted.length} least recently used file(s): ${evicted.map((e) => `${e.project}/${e.filename}`).join(', ')}`,
    );
    this.#options.onEvicted(evicted);
  }
}
