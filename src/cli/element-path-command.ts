// `dib-pypi element-path`: the directory holding this installation's DIB `pypi` element, for ELEMENTS_PATH.
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DibPypiError } from '../errors.js';
import { printJson, printLine } from './output.js';
import { findPackageRoot } from './package-root.js';
import type { ElementPathOptions } from './commands/element-path.js';

/** The element's own phases: a directory that has them is a whole element, not a stray name. */
const ELEMENT_FILES = ['extra-data.d/50-pypi-configure', 'post-root.d/10-pypi-restore'];

/** The absolute, symlink-free `elements` directory of this installation; throws when it lacks the element. */
export function findElementsDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  const root = findPackageRoot(realpathSync(here))?.dir;
  if (root === undefined) throw new DibPypiError(`element-path: no dib-pypi package.json above ${here}: this installation is incomplete; reinstall dib-pypi`);
  const elements = join(root, 'elements');
  const missing = ELEMENT_FILES.filter((file) => !existsSync(join(elements, 'pypi', file)));
  if (missing.length > 0) {
    throw new DibPypiError(
      `element-path: the pypi element is incomplete in ${elements}: ${missing.map((file) => `pypi/${file}`).join(', ')} missing; reinstall dib-pypi`,
    );
  }
  return elements;
}

export async function runElementPath(flags: ElementPathOptions): Promise<void> {
  const elements = findElementsDir();
  if (flags.json) printJson({ elementsPath: elements, element: join(elements, 'pypi') });
  else printLine(elements);
}
