// What the last sync learnt from the upstream, per project (validators, last serial, whether it finished),
// kept in DIR/.dib-pypi/sync-state.json so the next run can ask "changed since?" and skip what has not.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempPathFor, writeFileAtomic } from '../../fs/atomic-write.js';
import { STATE_DIR } from '../store/layout.js';

const VERSION = 1;

export interface ProjectSyncRecord {
  etag?: string;
  lastModified?: string;
  lastSerial?: number;
}

export interface SyncState {
  version: number;
  /** The upstream (without credentials) and the filters the records were made with: another of either starts afresh. */
  upstream: string;
  settings: string;
  /** Projects whose every wanted file was in place after the run that fetched this page. */
  projects: Record<string, ProjectSyncRecord>;
  /** The last run finished with a successful re-index (a run killed before that leaves false: the next one indexes). */
  isIndexed: boolean;
  /**
   * What said the upstream's state when the last run synced every project of its root page completely:
   * `serial N` (X-PyPI-Last-Serial) or `pages HEX` (the root JSON page's digest of every page, mirror index's).
   */
  rootMark?: string;
}

export function syncStatePath(dir: string): string {
  return join(dir, STATE_DIR, 'sync-state.json');
}

/** The saved state when it was made for the same upstream and settings; else an empty one (it is only a cache). */
export function loadSyncState(dir: string, upstream: string, settings: string): SyncState {
  const fresh: SyncState = { version: VERSION, upstream, settings, projects: {}, isIndexed: false };
  const path = syncStatePath(dir);
  if (!existsSync(path)) return fresh;
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<SyncState>;
    if (data.version !== VERSION || data.upstream !== upstream || data.settings !== settings || typeof data.projects !== 'object' || data.projects === null)
      return fresh;
    // rootSerial: a number, as runs before rootMark saved the serial
    const legacy = (data as { rootSerial?: unknown }).rootSerial;
    const rootMark = typeof data.rootMark === 'string' ? data.rootMark : typeof legacy === 'number' ? `serial ${legacy}` : undefined;
    return { ...fresh, projects: data.projects, isIndexed: data.isIndexed === true, ...(rootMark === undefined ? {} : { rootMark }) };
  } catch {
    return fresh;
  }
}

export function saveSyncState(dir: string, state: SyncState): void {
  const path = syncStatePath(dir);
  writeFileAtomic(path, tempPathFor(path), Buffer.from(JSON.stringify(state)), { mode: 0o644, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
}
