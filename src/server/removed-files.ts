// What `mirror remove` recorded, as the pull-through cache asks it for each page and file: re-read only when the
// record changed on disk (a removal over HTTP, or by `dib-pypi mirror remove` while the server runs).
import { isRemovedFile, readRemovalRecord, removalRecordStamp, type RemovalRecord } from '../mirror/store/removal-record.js';

export class RemovedFiles {
  readonly #dir: string;
  readonly #records = new Map<string, { stamp: string; record: RemovalRecord | undefined }>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The record of `project` now, and a stamp that changes with it. */
  current(project: string): { stamp: string; record: RemovalRecord | undefined } {
    const stamp = removalRecordStamp(this.#dir, project);
    const known = this.#records.get(project);
    if (known?.stamp === stamp) return known;
    const fresh = { stamp, record: stamp === 'none' ? undefined : readRemovalRecord(this.#dir, project) };
    if (this.#records.size >= 10_000) this.#records.clear();
    this.#records.set(project, fresh);
    return fresh;
  }

  /** Every file of the project is removed: the cache serves no page of upstream for it. */
  isWholeProject(project: string): boolean {
    return this.current(project).record?.whole === true;
  }

  /** This file (by name, or by its version) was removed: never fetched, never listed. */
  isRemoved(project: string, filename: string): boolean {
    return isRemovedFile(this.current(project).record, filename);
  }
}
