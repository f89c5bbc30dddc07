// The mirror as a local image in containers-storage, for `RUN --mount=type=bind,from=IMAGE` in a
// podman or buildah build: the same snapshot as for docker (mirror-image.ts: the files without
// .dib-pypi/, tagged by a hash of the file list, labelled by a hash of the mirror's path), made with
// the engine's CLI. A bind mount from an image is read-only, a snapshot the build cannot change, and
// its tag in the RUN line makes the layer cache see a changed mirror, which a `--volume` would not.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DibPypiError } from '../errors.js';
import { MIRROR_IMAGE_REPO, MIRROR_LABEL, mirrorImageTag, mirrorTar, shortHash } from './mirror-image.js';
import { imageExists, imagesLabelled, lastLine, type OciEngine, removeImage, runEngine } from './oci-engine.js';

/** containers-storage names an unqualified local image `localhost/NAME`. */
export function ociMirrorImageRef(mirror: string): string {
  return `localhost/${mirrorImageTag(mirror)}`;
}

/** The mirror's files as a tar file in `work` (the engines import a file: buildah has no stdin import). */
async function writeMirrorTar(mirror: string, work: string): Promise<string> {
  const tar = join(work, 'mirror.tar');
  await pipeline(mirrorTar(mirror) as Readable, createWriteStream(tar, { mode: 0o600 }));
  return tar;
}

/** `podman import`, or for buildah an image from scratch with the tar added (and so unpacked) at /. */
function importTar(engine: OciEngine, tar: string, ref: string, label: string): void {
  const fail = (detail: string) => new DibPypiError(`cannot import the mirror as the image ${ref}: ${detail}`);
  if (engine.name === 'podman') {
    const imported = runEngine(engine, ['import', '--quiet', '--change', `LABEL ${MIRROR_LABEL}=${label}`, tar, ref]);
    if (imported.status !== 0) throw fail(lastLine(imported.stderr));
    return;
  }
  const from = runEngine(engine, ['from', '--quiet', 'scratch']);
  if (from.status !== 0) throw fail(lastLine(from.stderr));
  const container = from.stdout.trim();
  try {
    for (const step of [
      ['add', '--quiet', container, tar, '/'],
      ['config', '--label', `${MIRROR_LABEL}=${label}`, container],
      ['commit', '--quiet', container, ref],
    ]) {
      const run = runEngine(engine, step);
      if (run.status !== 0) throw fail(lastLine(run.stderr));
    }
  } finally {
    runEngine(engine, ['rm', container]);
  }
}

/**
 * The mirror's image, imported when the mirror changed since the last import (older images of the
 * same mirror are removed then). `work` holds the tar while it is imported. Returns the reference.
 */
export async function ensureOciMirrorImage(engine: OciEngine, mirror: string, work: string, onProgress: (line: string) => void): Promise<string> {
  const ref = ociMirrorImageRef(mirror);
  if (imageExists(engine, ref)) return ref;
  const label = shortHash(mirror);
  onProgress(`importing the mirror ${mirror} as the image ${ref} (once per change of the mirror)`);
  importTar(engine, await writeMirrorTar(mirror, work), ref, label);
  for (const stale of imagesLabelled(engine, MIRROR_LABEL, label)) {
    if (stale !== ref && stale.startsWith(`localhost/${MIRROR_IMAGE_REPO}:`)) removeImage(engine, stale);
  }
  return ref;
}
