// An sdist's PKG-INFO: where it lies in the archive, and when its metadata counts.
import { basename } from 'node:path';
import { parseCoreMetadata } from '../../pypi/core-metadata.js';
import { sdistNameMatches } from '../../pypi/dist-filename.js';
import { BrokenDistributionError } from '../../pypi/errors.js';
import type { CoreMetadata } from '../../pypi/types.js';
import { broken } from './read-distribution.js';

/** The sdist's `<top>/PKG-INFO`, exactly one level deep (not `<top>/<pkg>.egg-info/PKG-INFO`). */
export function isTopPkgInfo(path: string): boolean {
  const parts = path.replace(/^\.\//, '').split('/');
  return parts.length === 2 && parts[0] !== '' && parts[1] === 'PKG-INFO';
}

/**
 * An sdist's PKG-INFO is informative (pip builds the sdist, never reads it): used only when it
 * parses and names a project the file name can belong to by pip's rule (`sdistNameMatches`), so
 * for `foo-v2-1.tar.gz` PKG-INFO may settle between `foo` and `foo-v2`.
 */
export function sdistCore(data: Buffer | undefined, path: string, strict = false): { core?: CoreMetadata } {
  if (strict) {
    // An upload is checked against its form by the caller; here it must merely have metadata.
    if (data === undefined) throw broken(path, 'no PKG-INFO at the top of the sdist (<name>-<version>/PKG-INFO)');
    return { core: parseCoreMetadata(data, path) };
  }
  if (data === undefined) return {};
  try {
    const core = parseCoreMetadata(data);
    return sdistNameMatches(basename(path), core.name) ? { core } : {};
  } catch (error) {
    if (error instanceof BrokenDistributionError) return {};
    throw error;
  }
}
