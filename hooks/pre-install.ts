// The pre-install hook every target calls (chroot, DIB element, containers): point pip in a root at the plan.
import { configureRoot, type ConfigureOptions, type ConfigureResult } from '../src/inject/configure-root.js';

/** Configure pip inside `root` (journaled, so `postInstall` can undo it even after a crash). */
export function preInstall(options: ConfigureOptions): ConfigureResult {
  return configureRoot(options);
}
