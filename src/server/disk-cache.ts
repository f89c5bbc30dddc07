// What the server knows of files on disk: stat facts (and small bodies) kept in memory, re-checked
// at most once per interval, bounded in bytes (least recently used out first). Like nginx's
// open_file_cache: no per-request stat or read for a hot file, changes seen within `validMs`.
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';

export interface DiskEntry {
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
  /** `"<mtime in ms>-<size>"` in hex (nginx uses seconds). */
  etag: string;
  lastModified: string;
  /** The whole file, when it is small enough to keep. */
  body?: Buffer;
  /** Derived data a caller keeps with the entry (e.g. a compressed page); dropped with the entry. */
  extra?: Map<string, Buffer>;
  checkedAt: number;
  bytes: number;
}

export interface DiskCacheOptions {
  /** Every path handed to `get` must resolve (symlinks followed) inside this directory. */
  root: string;
  /** Files up to this size are kept in memory. */
  maxBodyBytes: number;
  /** Total bytes of bodies (and extras) kept. */
  maxTotalBytes: number;
  /** How long a checked entry is trusted without a new stat. */
  validMs: number;
  now?: () => number;
}

export class DiskCache {
  readonly #entries = new Map<string, DiskEntry>();
  readonly #options: DiskCacheOptions;
  #realRoot: string | undefined;
  #total = 0;

  constructor(options: DiskCacheOptions) {
    this.#options = options;
  }

  get totalBytes(): number {
    return this.#total;
  }

  /** Forget `path` (it changed: an upload, a re-index). */
  invalidate(path: string): void {
    const entry = this.#entries.get(path);
    if (entry === undefined) return;
    this.#entries.delete(path);
    this.#total -= entry.bytes;
  }

  /** The entry for `path` when it was checked within `validMs` (no I/O, no promise); else undefined. */
  peek(path: string): DiskEntry | undefined {
    const cached = this.#entries.get(path);
    if (cached === undefined || (this.#options.now ?? Date.now)() - cached.checkedAt >= this.#options.validMs) return undefined;
    this.#entries.delete(path); // re-insert: most recently used last
    this.#entries.set(path, cached);
    return cached;
  }

  /** The entry for `path`, or undefined when it is missing, not a regular file, or outside the root. */
  async get(path: string): Promise<DiskEntry | undefined> {
    const now = (this.#options.now ?? Date.now)();
    const cached = this.#entries.get(path);
    if (cached !== undefined && now - cached.checkedAt < this.#options.validMs) {
      this.#entries.delete(path); // re-insert: most recently used last
      this.#entries.set(path, cached);
      return cached;
    }
    let facts: Stats;
    try {
      facts = await stat(path);
    } catch {
      this.invalidate(path);
      return undefined;
    }
    if (!facts.isFile()) {
      this.invalidate(path);
      return undefined;
    }
    if (cached !== undefined && cached.size === facts.size && cached.mtimeMs === facts.mtimeMs && cached.ino === facts.ino) {
      cached.checkedAt = now;
      return cached;
    }
    this.invalidate(path);
    if (!(await this.#isInsideRoot(path))) return undefined;
    const entry: DiskEntry = {
      path,
      size: facts.size,
      mtimeMs: facts.mtimeMs,
      ino: facts.ino,
      etag: `"${Math.floor(facts.mtimeMs).toString(16)}-${facts.size.toString(16)}"`,
      lastModified: new Date(facts.mtimeMs).toUTCString(),
      checkedAt: now,
      bytes: 0,
    };
    this.#entries.set(path, entry);
    return entry;
  }

  /** Keep `body` (the file's bytes, or something derived from them under `key`) with the entry, if it fits. */
  keep(entry: DiskEntry, body: Buffer, key?: string): void {
    if (this.#entries.get(entry.path) !== entry || body.length > this.#options.maxBodyBytes) return;
    if (key === undefined) entry.body = body;
    else (entry.extra ??= new Map()).set(key, body);
    entry.bytes += body.length;
    this.#total += body.length;
    for (const [path, old] of this.#entries) {
      if (this.#total <= this.#options.maxTotalBytes) break;
      if (old === entry) continue;
      this.invalidate(path);
    }
  }

  /** A symlink (the file, or a directory on its way) must not lead out of the served directory. */
  async #isInsideRoot(path: string): Promise<boolean> {
    this.#realRoot ??= await realpath(this.#options.root);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      return false;
    }
    return real.startsWith(this.#realRoot.endsWith(sep) ? this.#realRoot : this.#realRoot + sep);
  }
}
