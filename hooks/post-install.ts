// The post-install hook every target calls: give the root back byte for byte.
import { restoreRoot, type RestoreOptions, type RestoreResult } from '../src/inject/restore-root.js';

/** Restore what `preInstall` changed in `root`; a no-op success when there is nothing to restore. */
export function postInstall(options: RestoreOptions): RestoreResult {
  return restoreRoot(options);
}
