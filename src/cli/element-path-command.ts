// `dib-pypi element-path`: the directory holding this installation's DIB `pypi` element, for ELEMENTS_PATH.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DibPypiError } from '../errors.js';
import { printJson, printLine } from './output.js';

export interface ElementPathFlags {
  json?: boolean;
}

/** The element's own phases: a directory that has them is a whole element, not a stray name. */
const ELEMENT_FILES = ['extra-data.d/50-pypi-configure', 'post-root.d/10-pypi-restore'];

/**
 * The root of the dib-pypi package this code runs from: the first directory up from here with
 * our package.json (dist/cli in an installed package, dist/src/cli from tsc's output).
 */
function findPackageRoot(from: string): string | undefined {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'dib-pypi') return dir;
    } catch {
      // no (readable) package.json here: go up
    }
  }
  return undefined;
}

/** The absolute, symlink-free `elements` directory of this installation; throws when it lacks the element. */
export function findElementsDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  const root = findPackageRoot(realpathSync(here));
  if (root === undefined) throw new DibPypiError(`element-path: no dib-pypi package.json above ${here}: this installation is incomplete; reinstall dib-pypi`);
  const elements = join(root, 'elements');
  const missing = ELEMENT_FILES.filter((file) => !existsSync(join(elements, 'pypi', file)));
  if (missing.length > 0) {
    throw new DibPypiError(`element-path: the pypi element is incomplete in ${elements}: ${missing.map((file) => `pypi/${file}`).join(', ')} missing; reinstall dib-pypi`);
  }
  return elements;
}

export async function runElementPath(flags: ElementPathFlags): Promise<void> {
  const elements = findElementsDir();
  if (flags.json) printJson({ elementsPath: elements, element: join(elements, 'pypi') });
  else printLine(elements);
}
