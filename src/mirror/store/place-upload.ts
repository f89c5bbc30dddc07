// Place an uploaded, checked distribution file in the mirror: `DIR/<project>/<file>` with its `.upload-time`
// sidecar and the project's private marker; never over a file that is the same one under another spelling.
import { forgetCachedFile } from './cache-receipts.js';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath } from '../../fs/atomic-write.js';
import { replaceFile } from '../../fs/replace-file.js';
import { parseDistFilename } from '../../pypi/dist-filename.js';
import type { DistFilename } from '../../pypi/types.js';
import { fileIdentity } from './file-identity.js';
import { privateDir, privateMarker, UPLOAD_TIME, uploadTempDir, uploadTimeText } from './layout.js';

/** Uploads older than this in the temp directory were cut off by a crash: removed at start. */
const STALE_PART_MS = 60 * 60 * 1000;

function removeStaleParts(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.part')) continue;
    try {
      if (Date.now() - statSync(join(dir, name)).mtimeMs > STALE_PART_MS) rmSync(join(dir, name), { force: true });
    } catch {
      // gone already
    }
  }
}

/** One placement at a time per project: the check for an equivalent file and the link that follows are one step. */
class ProjectLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(project: string, step: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(project) ?? Promise.resolve();
    const result = previous.then(step, step);
    const tail = result.catch(() => undefined);
    this.#tails.set(project, tail);
    void tail.then(() => {
      if (this.#tails.get(project) === tail) this.#tails.delete(project);
    });
    return result;
  }
}

/** The file of the project directory that is `filename` under another spelling (fileIdentity), if any. */
async function findEquivalent(projectDir: string, filename: string, parsed: DistFilename): Promise<string | undefined> {
  const identity = fileIdentity(filename, parsed);
  for (const name of await readdir(projectDir)) {
    if (name === filename) continue;
    const other = parseDistFilename(name);
    if (other !== undefined && fileIdentity(name, other) === identity) return name;
  }
  return undefined;
}

export class UploadStore {
  readonly #dir: string;
  readonly #allowOverwrite: boolean;
  readonly #locks = new ProjectLocks();

  /** Makes the temp directory, and removes what crashed uploads left in it. */
  constructor(dir: string, allowOverwrite: boolean) {
    this.#dir = dir;
    this.#allowOverwrite = allowOverwrite;
    mkdirSync(this.tempDir, { recursive: true });
    removeStaleParts(this.tempDir);
  }

  /** Where uploads are received (the caller removes its temp file whatever happens). */
  get tempDir(): string {
    return uploadTempDir(this.#dir);
  }

  /** Put the checked file `temp` in place (one at a time per project); returns the conflict that refused it, or undefined when stored. */
  place(temp: string, project: string, filename: string, parsed: DistFilename): Promise<string | undefined> {
    return this.#locks.run(project, () => this.#place(temp, project, filename, parsed));
  }

  async #place(temp: string, project: string, filename: string, parsed: DistFilename): Promise<string | undefined> {
    const projectDir = join(this.#dir, project);
    await mkdir(projectDir, { recursive: true });
    if (!(await lstat(projectDir)).isDirectory()) return `${project} is not a directory in this mirror`;
    const equivalent = await findEquivalent(projectDir, filename, parsed);
    if (equivalent !== undefined && !this.#allowOverwrite) {
      return `${project}/${equivalent} exists already and is the same file as ${filename} (same project, version and tags; this server never overwrites; see --allow-overwrite)`;
    }
    const file = await open(temp, 'r');
    await file.sync();
    await file.close();
    const target = join(projectDir, filename);
    // An upload is never the cache's to evict, whatever file of the pull-through cache it replaces.
    forgetCachedFile(this.#dir, project, filename);
    if (equivalent !== undefined) forgetCachedFile(this.#dir, project, equivalent);
    if (this.#allowOverwrite) await rename(temp, target);
    else {
      try {
        await link(temp, target); // fails when the name exists: never overwritten, even by a racing upload
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST')
          return `${project}/${filename} exists already (this server never overwrites; see --allow-overwrite)`;
        throw error;
      }
    }
    if (equivalent !== undefined) {
      // --allow-overwrite: the new spelling replaces the old one.
      await rm(join(projectDir, equivalent), { force: true });
      await rm(join(projectDir, `${equivalent}${UPLOAD_TIME}`), { force: true });
    }
    replaceFile(`${target}${UPLOAD_TIME}`, uploadTimeText(new Date().toISOString()));
    mkdirSync(privateDir(this.#dir), { recursive: true });
    replaceFile(privateMarker(this.#dir, project), '');
    fsyncPath(projectDir);
    return undefined;
  }
}
