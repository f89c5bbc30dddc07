// Put a file the pull-through cache downloaded and verified into the mirror: `DIR/<project>/<file>` with its
// `.upload-time` and `.yanked` sidecars, the directory fsynced.
import { rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { fsyncPath } from '../../fs/atomic-write.js';
import { replaceFile } from '../../fs/replace-file.js';
import { BrokenDistributionError } from '../../pypi/errors.js';
import type { DistFilename } from '../../pypi/types.js';
import { UpstreamError } from '../../upstream/simple-model.js';
import { inspectDistribution } from '../inspect/inspect-distribution.js';
import { projectOfRecord } from './file-owner.js';
import { UPLOAD_TIME, uploadTimeText, YANKED } from './layout.js';

export interface DownloadedFacts {
  /** An sdist still in its verified temp file beside `target` (a wheel is in place already). */
  sdist?: { temp: string; filename: DistFilename };
  project: string;
  /** PEP 700 and PEP 592 as upstream gave them. */
  uploadTime?: string;
  yanked?: true | string;
}

/**
 * Put a verified sdist in place unless `mirror index` would list it on another project's page: for a
 * legacy name such as `foo-bar-1.0.tar.gz` it takes the project from PKG-INFO when pip's reading of the
 * name allows that project (`foo`, version `bar-1.0`), so a file of upstream's `foo-bar` could show on
 * this mirror's (maybe private) `foo`. The temp file is removed whatever happens but the rename.
 */
async function commitSdist(temp: string, target: string, filename: DistFilename, project: string): Promise<void> {
  let isPlaced = false;
  try {
    let owner = project;
    try {
      const inspected = await inspectDistribution(target, filename, temp);
      owner = projectOfRecord(basename(target), filename, inspected.core);
    } catch (error) {
      if (!(error instanceof BrokenDistributionError)) throw error; // a broken sdist is indexed by its name: this project
    }
    if (owner !== project)
      throw new UpstreamError(basename(target), `its PKG-INFO makes it a file of ${owner}, not of ${project}: not kept`, { isTransient: false });
    fsyncPath(temp);
    await rename(temp, target);
    isPlaced = true;
  } finally {
    if (!isPlaced) await rm(temp, { force: true });
  }
}

/** Commit the downloaded `target` (an sdist from its temp file) and write its sidecars; a refused sdist throws an UpstreamError. */
export async function commitDownload(target: string, facts: DownloadedFacts): Promise<void> {
  if (facts.sdist !== undefined) await commitSdist(facts.sdist.temp, target, facts.sdist.filename, facts.project);
  if (facts.uploadTime !== undefined) replaceFile(`${target}${UPLOAD_TIME}`, uploadTimeText(facts.uploadTime));
  if (facts.yanked !== undefined) replaceFile(`${target}${YANKED}`, facts.yanked === true ? '' : facts.yanked);
  fsyncPath(dirname(target));
}
