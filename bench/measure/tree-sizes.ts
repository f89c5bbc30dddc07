// Every regular file under a directory with its size, and what an index run added: the floor's input.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Relative path (with `/`) -> size, for every regular file below `root`. */
export function listFileSizes(root: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const visit = (relative: string) => {
    for (const entry of readdirSync(relative === '' ? root : join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) sizes.set(path, statSync(join(root, path)).size);
    }
  };
  visit('');
  return sizes;
}

/** Files that are new in `after`, or whose size changed: what the run between the two listings produced. */
export function producedFiles(before: Map<string, number>, after: Map<string, number>): [string, number][] {
  return [...after].filter(([path, size]) => before.get(path) !== size).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The floor script's input: one `relative/path SIZE` per line. */
export function renderProducedList(files: readonly [string, number][]): string {
  return files.map(([path, size]) => `${path} ${size}\n`).join('');
}
