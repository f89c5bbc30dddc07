// Where this dib-pypi package is installed: the first directory up from the running code whose
// package.json names dib-pypi (dist/cli in an installed package, dist/src/cli from tsc's output).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageRoot {
  dir: string;
  version?: string;
}

export function findPackageRoot(from: string): PackageRoot | undefined {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'dib-pypi') return { dir, ...(typeof pkg.version === 'string' && pkg.version !== '' ? { version: pkg.version } : {}) };
    } catch {
      // no (readable) package.json here: go up
    }
  }
  return undefined;
}
