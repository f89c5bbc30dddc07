// Which files the pull-through cache gives up when it holds more than its limit: least recently used first (pure).
//
// Only files the cache downloaded are counted (uploads and synced files are never entries). Past the
// limit it evicts down to a low-water mark below it, so that one new file does not cost one eviction
// every time the cache is full.

export interface CachedFileEntry {
  /** `<project>/<filename>`. */
  key: string;
  bytes: number;
  /** When it was stored or last served (ms since the epoch). */
  lastUsed: number;
}

/** Evicting stops once the cache holds at most this share of its limit. */
export const LOW_WATER = 0.9;

export class CacheBudget {
  readonly maxBytes: number;
  readonly #entries = new Map<string, CachedFileEntry>();
  #bytes = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`a cache limit must be above 0 bytes, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get files(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** A file stored (or found at start); a key seen before is replaced. */
  add(entry: CachedFileEntry): void {
    this.remove(entry.key);
    this.#entries.set(entry.key, { ...entry });
    this.#bytes += entry.bytes;
  }

  /** A file served: it becomes the most recently used. Returns the entry's previous use, or undefined when the file is not counted. */
  touch(key: string, now: number): number | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const previous = entry.lastUsed;
    if (now > entry.lastUsed) entry.lastUsed = now;
    return previous;
  }

  /** The counted files' keys. */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  remove(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /**
   * The files to evict, least recently used first, when the cache is over its limit: enough to bring it
   * down to LOW_WATER of the limit. `keep` (a file being stored or served now) is never one of them;
   * when only it is left it stays, even over the limit (a file bigger than the cache is still served once).
   */
  victims(keep?: string): CachedFileEntry[] {
    if (this.#bytes <= this.maxBytes) return [];
    const target = Math.floor(this.maxBytes * LOW_WATER);
    const byAge = [...this.#entries.values()].filter((e) => e.key !== keep).sort((a, b) => a.lastUsed - b.lastUsed || (a.key < b.key ? -1 : 1));
    const out: CachedFileEntry[] = [];
    let bytes = this.#bytes;
    for (const entry of byAge) {
      if (bytes <= target) break;
      out.push({ ...entry });
      bytes -= entry.bytes;
    }
    return out;
  }
}
