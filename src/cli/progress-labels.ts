// The mirror layer's progress events, as the snapshots the status line shows (the words users read).
import type { SyncProgress } from '../mirror/sync/sync-mirror.js';
import type { IndexProgress } from '../mirror/index/types.js';
import type { VerifyProgress } from '../mirror/verify/verify-mirror.js';
import type { ProgressSnapshot } from './progress.js';

const INDEX_PHASES: Record<IndexProgress['phase'], { label: string; unit?: string }> = {
  scan: { label: 'scanning' },
  inspect: { label: 'inspecting', unit: 'files' },
  write: { label: 'writing pages', unit: 'projects' },
};

/** `index: inspecting 500/1200 files`; `prefix` names the command the index runs in. */
export function indexSnapshot(progress: IndexProgress, prefix = 'index'): ProgressSnapshot {
  const { label, unit } = INDEX_PHASES[progress.phase];
  return { phase: `${prefix}: ${label}`, done: progress.done, total: progress.total, ...(unit === undefined ? {} : { unit }) };
}

const VERIFY_PHASES: Record<VerifyProgress['phase'], { label: string; unit?: string }> = {
  hash: { label: 'hashing', unit: 'files' },
  list: { label: 'listing files the index does not know' },
  pages: { label: 'comparing pages', unit: 'projects' },
};

/** `verify: hashing 1200/40000 files (3%), 12.0 MB of 400.0 MB`: the ETA follows the bytes the index records. */
export function verifySnapshot(progress: VerifyProgress, prefix = 'verify'): ProgressSnapshot {
  const { label, unit } = VERIFY_PHASES[progress.phase];
  const snapshot: ProgressSnapshot = { phase: `${prefix}: ${label}`, done: progress.done, total: progress.total };
  if (unit !== undefined) snapshot.unit = unit;
  if (progress.bytes !== undefined) snapshot.bytes = progress.bytes;
  if (progress.totalBytes !== undefined) snapshot.totalBytes = progress.totalBytes;
  return snapshot;
}

/** Projects are the count (their total is known early); files, whose total grows as pages are read, the detail. */
export function syncSnapshot(progress: SyncProgress): ProgressSnapshot {
  return {
    phase: 'sync: downloading',
    done: progress.projectsDone,
    total: progress.projectsTotal,
    unit: 'projects',
    bytes: progress.bytes,
    detail: `${progress.filesDone}/${progress.filesQueued} files`,
  };
}
