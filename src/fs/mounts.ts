// Mount points from /proc/self/mountinfo: which lie inside a root (configure must not write through them), which are still mounted.
import { readFileSync } from 'node:fs';
import { ConfinementError } from '../errors.js';

// /proc/self/mountinfo escapes space, tab, newline and backslash as octal.
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parse mountinfo text into mount point paths (field 5). */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length > 4 && fields[4] !== undefined) points.push(unescapeMountPath(fields[4]));
  }
  return points;
}

/** This process's mount points, in mount order. Empty where /proc is not mounted. */
export function readMountPoints(): string[] {
  try {
    return parseMountPoints(readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

/** Mount points at or below `path`, in mount order. */
export function mountsAtOrBelow(path: string): string[] {
  const prefix = path.endsWith('/') ? path : path + '/';
  return readMountPoints().filter((p) => p === path || p.startsWith(prefix));
}

/** Mount points below `root` (not `root` itself). */
export function mountsBelow(root: string): string[] {
  return mountsAtOrBelow(root).filter((p) => p !== root);
}

/** Throw if `hostPath` is on a mount inside the root, where a write could reach the host (a bind mount). */
export function assertNotOnInnerMount(hostPath: string, innerMounts: string[], root: string): void {
  for (const mount of innerMounts) {
    if (hostPath === mount || hostPath.startsWith(mount + '/')) {
      throw new ConfinementError(
        `refusing to write ${hostPath}: it is on ${mount}, a mount inside ${root} (a bind mount would carry the change outside the root)`,
        hostPath,
      );
    }
  }
}
