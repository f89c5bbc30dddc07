// The mirror as a local Docker image (an import of its files through the Engine API), so a
// `--network none` BuildKit build can mount it with `RUN --mount=type=bind,from=IMAGE`. Tagged by a
// hash of the mirror's file list (path, size, mtime, mode): an unchanged mirror is imported once and reused.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { pack, type PackOptions } from 'tar-fs';
import { DibPypiError } from '../errors.js';

export const MIRROR_IMAGE_REPO = 'dib-pypi-mirror';
/** The label every mirror image carries: a hash of the mirror's host path, to drop the stale ones. */
export const MIRROR_LABEL = 'dib-pypi.mirror';
/** dib-pypi's own state in a mirror (manifest, locks, quarantine): not part of the index. */
const STATE_DIR = '.dib-pypi';

/** Every entry of the mirror, sorted, as `path size mtime mode` lines. */
function listing(mirror: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string) => {
    const names = readdirSync(join(mirror, rel)).sort();
    for (const name of names) {
      if (rel === '' && name === STATE_DIR) continue;
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(join(mirror, path), { bigint: true });
      lines.push(`${path}\t${st.size}\t${st.mtimeNs}\t${st.mode}\t${st.uid}:${st.gid}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk('');
  return lines;
}

export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The tag of the mirror's image: a hash of its file list. */
function mirrorVersion(mirror: string): string {
  return shortHash(listing(mirror).join('\n'));
}

/** `dib-pypi-mirror:<16 hex>` for the mirror as it is now. */
export function mirrorImageTag(mirror: string): string {
  return `${MIRROR_IMAGE_REPO}:${mirrorVersion(mirror)}`;
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

async function imageExists(engine: Docker, tag: string): Promise<boolean> {
  try {
    await engine.getImage(tag).inspect();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw new DibPypiError(`cannot reach the Docker engine: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The mirror's files (without .dib-pypi/) as a tar stream, modes, owners (numeric) and mtimes as
 * they are on disk: tar-fs would otherwise mask the modes with our umask.
 */
export function mirrorTar(mirror: string): NodeJS.ReadableStream {
  const options: PackOptions & { umask: number; sort: boolean } = { umask: 0, sort: true, strict: false, ignore: (name) => name === join(mirror, STATE_DIR) };
  return pack(mirror, options);
}

/** POST /images/create?fromSrc=- (what `docker import` does); the engine reports failures inside the progress stream. */
async function importMirror(engine: Docker, mirror: string, version: string, label: string): Promise<void> {
  const tag = `${MIRROR_IMAGE_REPO}:${version}`;
  const fail = (detail: string, cause?: unknown) =>
    new DibPypiError(`cannot import the mirror ${mirror} as the image ${tag}: ${detail}`, cause !== undefined ? { cause } : undefined);
  let events: { error?: string }[];
  try {
    const progress = await engine.importImage(mirrorTar(mirror), { repo: MIRROR_IMAGE_REPO, tag: version, changes: [`LABEL ${MIRROR_LABEL}=${label}`] });
    events = await new Promise((resolve, reject) =>
      engine.modem.followProgress(progress, (error: Error | null, output: { error?: string }[]) => (error ? reject(error) : resolve(output))),
    );
  } catch (error) {
    throw fail((error as Error).message, error);
  }
  const failed = events.find((event) => event.error !== undefined);
  if (failed !== undefined) throw fail(failed.error ?? '');
}

/** Older images of this mirror: still in use by a running build, an image stays for the next time. */
async function removeStaleImages(engine: Docker, label: string, keep: string): Promise<void> {
  let images: Docker.ImageInfo[];
  try {
    images = await engine.listImages({ filters: { label: [`${MIRROR_LABEL}=${label}`] } });
  } catch (error) {
    throw new DibPypiError(`cannot list the images of the mirror: ${(error as Error).message}`, { cause: error });
  }
  const stale = images.flatMap((image) => image.RepoTags ?? []).filter((ref) => ref !== keep && ref.startsWith(`${MIRROR_IMAGE_REPO}:`));
  for (const ref of stale)
    await engine
      .getImage(ref)
      .remove()
      .catch(() => {});
}

/**
 * The mirror's image, imported when the mirror changed since the last import; older images of the
 * same mirror are removed then. Returns the tag.
 */
export async function ensureMirrorImage(engine: Docker, mirror: string, onProgress: (line: string) => void): Promise<string> {
  const version = mirrorVersion(mirror);
  const tag = `${MIRROR_IMAGE_REPO}:${version}`;
  if (await imageExists(engine, tag)) return tag;
  const label = shortHash(mirror);
  onProgress(`importing the mirror ${mirror} as the image ${tag} (once per change of the mirror)`);
  await importMirror(engine, mirror, version, label);
  await removeStaleImages(engine, label, tag);
  return tag;
}
