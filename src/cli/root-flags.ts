// Flags shared by the commands that work on a root.
import { defaultStateRoot } from '../inject/state-root.js';

export interface RootFlags {
  root: string;
  stateDir?: string;
  json?: boolean;
}

export function stateRootOf(flags: RootFlags): string {
  return defaultStateRoot(process.env, process.getuid?.() ?? 0, flags.stateDir);
}
