// `--mirror DIR` of exec and env: a local mirror directory as the plan's only index (file://), offline.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../errors.js';
import type { SharedFlags } from './plan-input.js';

/**
 * The plan flags with `--mirror DIR` folded in: file://<abs DIR> first (pip reads
 * <DIR>/<project>/index.html), any --mirror-url after it, and --offline: no public index.
 */
export function withMirrorDir(flags: SharedFlags & { mirror?: string }, cwd: string): SharedFlags {
  if (flags.mirror === undefined) return flags;
  const dir = resolve(cwd, flags.mirror);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new UsageError(`not a directory: ${dir}`, '--mirror');
  return { ...flags, mirrorUrl: [pathToFileURL(dir).href, ...(flags.mirrorUrl ?? [])], offline: true };
}
