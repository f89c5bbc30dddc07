// Which RUN mount targets buildah 1.28 (podman 4.3 builds with it) fails to remove from the layer. Pure.
//
// After each RUN, buildah removes the mount points runc created for its `--mount`s (run_common.go
// cleanupRunMounts: copier.Remove(mountpoint, target)). copier takes the target for a host path and
// makes it relative to the container's root in storage (graphroot/vfs/dir/ID, graphroot/overlay/ID/merged),
// then re-roots it: the leading directories the two share are lost. With the storage under /tmp,
// /tmp/pypi-requirements.lock is looked for at /pypi-requirements.lock, and the empty file that was
// its mount point stays in the image. buildah 1.41 removes the right path ("run: clean up parents of
// mount targets, too").
import { realpathSync } from 'node:fs';

function firstComponent(path: string): string {
  return path.split('/').filter(Boolean)[0] ?? '';
}

/** The targets that share their first directory with the storage (as given, or with its symlinks resolved): buildah 1.28 leaves them. */
export function mountTargetsLeftBy(graphRoot: string, targets: readonly string[], resolve: (path: string) => string = realpathSync): string[] {
  const roots = [graphRoot];
  try {
    roots.push(resolve(graphRoot));
  } catch {
    // not there yet: the engine creates it as given
  }
  const shared = new Set(roots.map(firstComponent));
  return targets.filter((target) => shared.has(firstComponent(target)));
}
