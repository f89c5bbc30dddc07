// Mount points the engine creates in a container's writable layer, and taking them out of it before a commit.
//
// runc creates a bind mount's destination (and any missing parent) inside the container's root
// filesystem, i.e. in its writable layer: an empty /etc/pip.conf or /tmp/pypi would be committed,
// and their parents' mtimes changed. After the step we delete those stubs in the layer on the
// engine's host (the storage driver's directory) and give the parents their mtimes back when
// nothing else in them changed, so `docker diff` shows only what CMD did.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, rmdirSync, utimesSync } from 'node:fs';
import { join, posix } from 'node:path';
import { DibPypiError } from '../errors.js';

/** A path the engine will create for a mount: the first missing component of its destination. */
export interface MountStub {
  /** In-container path of the first missing component. */
  path: string;
  /** Its parent, which exists in the image. */
  parent: string;
  /** The parent's mtime in the container's layer before the step (vfs: the layer holds the whole tree). */
  parentMtime?: Date;
}

/** Whether a path exists in the image (asked of a container that has no mounts: the archive API mounts them). */
export type ExistsInImage = (path: string) => Promise<boolean>;

/** The stubs the engine will create for these mount destinations. */
export async function findMountStubs(destinations: readonly string[], exists: ExistsInImage): Promise<MountStub[]> {
  const stubs: MountStub[] = [];
  for (const destination of destinations) {
    let parent = '/';
    for (const part of destination.split('/').filter(Boolean)) {
      const path = posix.join(parent, part);
      if (!(await exists(path))) {
        if (!stubs.some((s) => s.path === path)) stubs.push({ path, parent });
        break;
      }
      parent = path;
    }
  }
  return stubs;
}

/** The parents' mtimes as the layer has them before the step. */
export function recordParentMtimes(layerDir: string, stubs: readonly MountStub[]): MountStub[] {
  return stubs.map((stub) => {
    const hostParent = join(layerDir, stub.parent);
    return existsSync(hostParent) ? { ...stub, parentMtime: lstatSync(hostParent).mtime } : stub;
  });
}

export interface LayerFacts {
  driver: string;
  /** GraphDriver.Data of the container (overlay2: UpperDir). */
  data: Record<string, string> | null;
  dockerRoot: string;
  containerId: string;
}

/** The host directory holding the container's writable layer, when this process can reach it. */
export function writableLayerDir(facts: LayerFacts): string | undefined {
  if (facts.driver === 'overlay2' && facts.data?.UpperDir) return existsSync(facts.data.UpperDir) ? facts.data.UpperDir : undefined;
  if (facts.driver === 'vfs') {
    try {
      const mountId = readFileSync(join(facts.dockerRoot, 'image/vfs/layerdb/mounts', facts.containerId, 'mount-id'), 'utf8').trim();
      const dir = join(facts.dockerRoot, 'vfs/dir', mountId);
      return /^[0-9a-f]+$/.test(mountId) && existsSync(dir) ? dir : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A stub must still be what the engine made: an empty file or an empty directory tree. */
function isEmptyStub(hostPath: string): boolean {
  const st = lstatSync(hostPath);
  if (st.isFile()) return st.size === 0;
  if (!st.isDirectory()) return false;
  return readdirSync(hostPath).every((name) => isEmptyStub(join(hostPath, name)));
}

/**
 * Delete the stubs from the layer; give each parent its image mtime back when `changedUnder`
 * (the container's changes, after the deletion) lists nothing below it. Throws when a stub is no
 * longer empty (then the commit would carry something we cannot explain).
 */
export async function removeMountStubs(layerDir: string, stubs: readonly MountStub[], changedUnder: () => Promise<string[]>): Promise<void> {
  for (const stub of stubs) {
    const hostPath = join(layerDir, stub.path);
    if (!existsSync(hostPath)) continue;
    if (!isEmptyStub(hostPath)) throw new DibPypiError(`the mount point ${stub.path} is not empty after the step: not committing`);
    if (lstatSync(hostPath).isDirectory()) rmSync(hostPath, { recursive: true });
    else rmSync(hostPath);
  }
  const changed = await changedUnder();
  for (const stub of stubs) {
    const hostParent = join(layerDir, stub.parent);
    if (!existsSync(hostParent)) continue;
    const prefix = stub.parent === '/' ? '/' : `${stub.parent}/`;
    if (changed.some((path) => path.startsWith(prefix) && path !== stub.parent)) continue;
    if (stub.parentMtime !== undefined) utimesSync(hostParent, lstatSync(hostParent).atime, stub.parentMtime);
    // overlay2: a directory copied up only for the stub, now empty, goes back to the lower layer's.
    if (stub.parent !== '/' && readdirSync(hostParent).length === 0 && layerDir.endsWith('/diff')) {
      try {
        rmdirSync(hostParent);
      } catch {
        // kept: an empty directory entry, no content
      }
    }
  }
}
