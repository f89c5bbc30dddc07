// The sync's intent journal, DIR/.dib-pypi/sync-journal: durability of tens of thousands of downloads without
// an fsync per file. Before a batch of verified temp files is renamed into place, one line per file (its digest
// and path) is appended and the journal alone fdatasynced; at the end of a run (and now and then while it runs)
// one syncfs (`sync -f DIR`) makes everything written so far durable, after which a `synced <offset>` line (or,
// at the end, the journal's removal) says so. A SIGKILL or a killed upstream loses nothing from the page cache;
// a power loss can: the next run then re-hashes the files journaled after the last `synced` line and removes
// those whose bytes are not what was journaled (sync fetches them again). See docs/mirror-layout.md.
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath } from '../../fs/atomic-write.js';
import { syncFileSystem } from '../../fs/sync-file-system.js';
import { STATE_DIR } from '../store/layout.js';
import { mapLimit } from '../../async/map-limit.js';
import { appendAll } from '../../append-all.js';

export const JOURNAL_NAME = 'sync-journal';

/** A file about to be renamed into place: its path relative to the mirror and the digest its bytes have. */
export interface JournalEntry {
  path: string;
  algorithm: string;
  digest: string;
}

export function journalPath(dir: string): string {
  return join(dir, STATE_DIR, JOURNAL_NAME);
}

/** One line per entry: `<algorithm> <hex digest> <path>` (paths never hold a newline: names are checked upstream). */
export function formatEntries(entries: readonly JournalEntry[]): string {
  return entries.map((e) => `${e.algorithm} ${e.digest} ${e.path}\n`).join('');
}

/**
 * The entries a run left that were not yet made durable: every complete line after the last `synced <offset>`
 * line whose offset covers them. A torn last line (the run died while appending) is dropped: its renames had not begun.
 */
export function pendingEntries(text: string): JournalEntry[] {
  let durableUpTo = 0;
  const entries: { at: number; entry: JournalEntry }[] = [];
  let at = 0;
  for (const line of text.split('\n').slice(0, -1)) {
    const lineStart = at;
    at += Buffer.byteLength(line) + 1;
    const synced = /^synced (\d+)$/.exec(line);
    if (synced) {
      durableUpTo = Math.max(durableUpTo, Number(synced[1]));
      continue;
    }
    const match = /^([a-z0-9_]+) ([0-9a-f]+) (\S.*)$/.exec(line);
    if (match) entries.push({ at: lineStart, entry: { algorithm: match[1] as string, digest: match[2] as string, path: match[3] as string } });
  }
  return entries.filter((e) => e.at >= durableUpTo).map((e) => e.entry);
}

/** A path from the journal, if it names a file directly inside a project directory (nothing else is ever touched). */
function safeRelative(path: string): string | undefined {
  const parts = path.split('/');
  if (parts.length > 2 || parts.some((p) => p === '' || p === '.' || p === '..' || p.startsWith('.'))) return undefined;
  return path;
}

/** The digest of a file, read in chunks (a wheel may be larger than one buffer); undefined when it does not exist. */
function digestOf(path: string, algorithm: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const hash = createHash(algorithm);
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let n: number; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hash.update(chunk.subarray(0, n));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

export interface Repair {
  /** Journaled files checked. */
  checked: number;
  /** Paths (relative) removed because their bytes were not the journaled ones. */
  removed: string[];
  /** Project directories with a journaled file removed or missing: the sync state must not call them complete. */
  projects: Set<string>;
}

/**
 * Before a run: if the last one did not finish, re-hash what it journaled after its last durable point and
 * remove each file (and the `.metadata` the writer thread made of it) whose bytes differ. Then `beforeDrop`, then drop the journal.
 */
export function repairFromJournal(dir: string, beforeDrop: (repair: Repair) => void = () => {}): Repair {
  const path = journalPath(dir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { checked: 0, removed: [], projects: new Set() };
    throw error;
  }
  const repair: Repair = { checked: 0, removed: [], projects: new Set() };
  const seen = new Set<string>();
  for (const entry of pendingEntries(text).reverse()) {
    // the last line for a path is the one that counts (a sidecar rewritten twice)
    const rel = safeRelative(entry.path);
    if (rel === undefined || seen.has(rel)) continue;
    seen.add(rel);
    const full = join(dir, rel);
    let actual: string | undefined;
    try {
      actual = digestOf(full, entry.algorithm);
    } catch {
      actual = '';
    }
    const project = rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : '';
    if (actual === undefined) {
      repair.projects.add(project); // not renamed into place before the crash, or the rename was lost
      continue;
    }
    repair.checked++;
    if (actual === entry.digest) continue;
    repair.projects.add(project);
    rmSync(full, { force: true });
    rmSync(`${full}.metadata`, { force: true });
    repair.removed.push(rel);
  }
  if (repair.removed.length > 0) fsyncDirsOf(dir, repair.removed);
  beforeDrop(repair); // (the caller records what it must: a crash before the journal goes repeats the repair)
  rmSync(path, { force: true });
  fsyncPath(join(dir, STATE_DIR));
  return repair;
}

function fsyncDirsOf(dir: string, paths: readonly string[]): void {
  for (const sub of new Set(paths.map((p) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : '')))) fsyncPath(join(dir, sub));
}

function fsyncFdAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/** The journal of one run. Appends are serialised by the caller (the writer, sync-writer.ts, records one batch at a time). */
export class SyncJournal {
  #fd: number | undefined;
  #size = 0;
  /** Offset up to which every entry's rename has been done (so a syncfs started now covers them), and those paths since the last durable point. */
  #renamedUpTo = 0;
  #renamedPaths: string[] = [];
  #durableUpTo = 0;
  #checkpoint: Promise<void> | undefined;
  #failure: unknown;

  constructor(private readonly dir: string) {}

  /** Append entries and make them durable (one fdatasync of the journal); their renames may begin when this resolves, to be reported with `renamed(offset)`. */
  async record(entries: readonly JournalEntry[]): Promise<number> {
    if (entries.length === 0) return this.#size;
    if (this.#fd === undefined) {
      this.#fd = openSync(journalPath(this.dir), 'a', 0o644);
      this.#size = 0;
      fsyncPath(join(this.dir, STATE_DIR)); // the journal itself survives a crash
    }
    const data = Buffer.from(formatEntries(entries));
    for (let offset = 0; offset < data.length; ) offset += writeSync(this.#fd, data, offset);
    this.#size += data.length;
    const end = this.#size;
    await fsyncFdAsync(this.#fd);
    return end;
  }

  /** The renames of everything recorded up to `offset` are done (`paths`: those renamed, relative to the mirror). */
  renamed(offset: number, paths: readonly string[]): void {
    this.#renamedUpTo = Math.max(this.#renamedUpTo, offset);
    for (const path of paths) this.#renamedPaths.push(path);
  }

  /** Start a syncfs in the background unless one is running; entries renamed by then become durable when it ends. */
  checkpointSoon(): void {
    if (this.#checkpoint !== undefined || this.#renamedUpTo <= this.#durableUpTo) return;
    this.#checkpoint = this.#syncNow()
      .catch((error: unknown) => void (this.#failure ??= error))
      .finally(() => (this.#checkpoint = undefined));
  }

  /** Make every renamed entry durable (after any running checkpoint), then remove the journal: the run is durable. */
  async finish(): Promise<void> {
    while (this.#checkpoint !== undefined) await this.#checkpoint;
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#renamedUpTo > this.#durableUpTo) await this.#syncNow();
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
    rmSync(journalPath(this.dir), { force: true });
    fsyncPath(join(this.dir, STATE_DIR));
  }

  async #syncNow(): Promise<void> {
    const offset = this.#renamedUpTo;
    const paths = this.#renamedPaths;
    this.#renamedPaths = [];
    try {
      if (!(await syncFileSystem(this.dir))) await fsyncEach(this.dir, paths);
    } catch (error) {
      appendAll(this.#renamedPaths, paths);
      throw error;
    }
    this.#durableUpTo = Math.max(this.#durableUpTo, offset);
    if (this.#fd !== undefined) {
      // for the next run (not fsynced: if lost, that run only re-hashes more)
      const line = Buffer.from(`synced ${offset}\n`);
      writeSync(this.#fd, line);
      this.#size += line.length;
    }
  }
}

/** Without syncfs: fsync each file, then each directory they are in. */
async function fsyncEach(dir: string, paths: readonly string[]): Promise<void> {
  const fsyncOne = async (path: string) => {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  await mapLimit(paths, 16, (p) => fsyncOne(join(dir, p)));
  await mapLimit([...new Set(paths.map((p) => join(dir, p, '..')))], 16, fsyncOne);
}
