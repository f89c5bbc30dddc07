// Download one planned file within the run's slots and hand it to the writer thread.
import { join } from 'node:path';
import { CHUNK_BYTES } from '../inspect/read-distribution.js';
import type { PlannedFile } from './plan.js';
import { fail, type SyncRun } from './sync-run.js';

/** Download one file, verified, and hand it to the writer thread, which writes, inspects and journals it. True when it is in place. */
export async function download(run: SyncRun, project: string, planned: PlannedFile): Promise<boolean> {
  const target = join(run.options.dir, project, planned.file.filename);
  try {
    const size = planned.file.size === undefined ? {} : { size: planned.file.size };
    const path = `${project}/${planned.file.filename}`;
    // The slot is held while the bytes come in, not while the writer writes and journals them. A file that fits
    // in one read comes back in memory (the writer thread writes and inspects it), a bigger one as a temp file.
    // Room is asked for inside the slot: at most --jobs downloads add bytes after each check.
    const { bytes, temp, data } = await run.slots.run(async () => {
      await run.writer.room();
      return run.client.download({
        url: planned.file.url,
        target,
        algorithm: planned.algorithm,
        digest: planned.digest,
        ...size,
        commit: 'memory',
        memoryUpTo: CHUNK_BYTES - 1,
      });
    });
    const record = await run.writer.place({
      path,
      target,
      algorithm: planned.algorithm,
      digest: planned.digest,
      ...(data === undefined ? { temp: temp as string } : { data }),
      isInspected: true,
    });
    if (record !== undefined) run.inspected.set(path, record);
    run.result.downloaded++;
    run.result.bytes += bytes;
    run.progress.bytes += bytes;
    run.events.onStep?.(`downloaded ${project}/${planned.file.filename}`);
    return true;
  } catch (error) {
    fail(run, project, planned.file.filename, error);
    return false;
  } finally {
    run.progress.filesDone++;
    run.events.onProgress?.(run.progress);
  }
}
