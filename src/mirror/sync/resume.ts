// What a sync keeps for the next run: its journal checked after a run that did not finish, its state saved as it goes and when it is done.
import { repairFromJournal } from './journal.js';
import { saveSyncState, type SyncState } from './state.js';
import type { SyncRun } from './sync-run.js';
import type { SyncEvents } from './types.js';

/** A previous run that did not finish: re-check what its journal lists; projects with a file lost are no longer complete. */
export function repairJournaled(dir: string, state: SyncState, events: SyncEvents): void {
  const repair = repairFromJournal(dir, ({ projects }) => {
    if (projects.size === 0) return;
    for (const project of projects) delete state.projects[project];
    delete state.rootMark;
    state.isIndexed = false;
    saveSyncState(dir, state); // before the journal goes: no later run may take those projects for complete
  });
  if (repair.checked > 0)
    events.onLog?.(
      `checked ${repair.checked} files an unfinished run wrote: ${repair.removed.length === 0 ? 'all intact' : `removed ${repair.removed.length} not intact (fetched again): ${repair.removed.join(', ')}`}`,
    );
}

/** Save the state at most every few seconds while running (a killed run then resumes past finished projects), and at the end. */
export function saveStateNow(run: SyncRun, isFinal: boolean): void {
  if (run.options.isDryRun || (!isFinal && Date.now() - run.lastSave < 5_000)) return;
  saveSyncState(run.options.dir, run.next);
  run.lastSave = Date.now();
}

/** The state after a complete run: indexed, and the root page's mark when every project on it is complete. */
export function saveFinalState(run: SyncRun, projectCount: number): void {
  run.next.isIndexed = true;
  if (run.rootMark !== undefined && run.result.failed.length === 0 && Object.keys(run.next.projects).length === projectCount) run.next.rootMark = run.rootMark;
  else delete run.next.rootMark;
  saveSyncState(run.options.dir, run.next);
}
