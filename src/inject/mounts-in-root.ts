// Mount the mirror, /proc and /dev inside a root, each journaled before it is made, so restore (even after a kill) unmounts it.
import { spawnSync } from 'node:child_process';
import { DibPypiError, InternalError } from '../errors.js';
import { MOUNT_POINTS } from './journal-rules.js';
import { readMountPoints } from '../fs/mounts.js';
import { hostPathOf, resolveDirInRoot } from '../fs/resolve-in-root.js';
import type { StepHook } from './configure-root.js';
import { openJournal, realRootOf } from './root-journal.js';

export type MountKind = 'bind-ro' | 'bind' | 'proc';

export interface MountSpec {
  /** Directory inside the root; it must exist (configure's `dirs` creates it, journaled). */
  target: string;
  kind: MountKind;
  /** Host path for bind mounts. */
  source?: string;
}

export function isMounted(hostPath: string): boolean {
  return readMountPoints().includes(hostPath);
}

// node:child_process, not execa: restore loads this module, and restore's start-up time is budgeted (bench/configure-restore.ts).
function run(args: string[]): void {
  const result = spawnSync(args[0] as string, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) {
    const detail = result.stderr?.trim() || result.error?.message || `exit ${result.status ?? result.signal}`;
    throw new DibPypiError(`${args.join(' ')} failed: ${detail}`, { cause: result.error });
  }
}

function mountCommands(spec: MountSpec, host: string): string[][] {
  switch (spec.kind) {
    case 'proc':
      return [['mount', '-t', 'proc', 'proc', host]];
    case 'bind':
      return [['mount', '--bind', spec.source as string, host]];
    case 'bind-ro':
      // Two steps: a bind mount ignores `ro` on its first mount.
      return [['mount', '--bind', spec.source as string, host], ['mount', '-o', 'remount,bind,ro', host]];
  }
}

/** Mount each spec on its directory inside the root (resolved inside the root, never through a symlink out of it). */
export function mountInRoot(options: { root: string; stateRoot: string; mounts: MountSpec[]; onStep?: StepHook }): string[] {
  const root = realRootOf(options.root);
  const { journal, release } = openJournal(root, options.stateRoot);
  const mounted: string[] = [];
  try {
    for (const spec of options.mounts) {
      if (MOUNT_POINTS[spec.target] !== spec.kind) throw new InternalError(`mount ${spec.kind} on ${spec.target} is not one of dib-pypi's (journal-rules.ts)`);
      const resolved = resolveDirInRoot(root, spec.target);
      if (resolved.missing.length > 0) throw new DibPypiError(`cannot mount on ${spec.target} inside ${root}: it does not exist`);
      const host = hostPathOf(root, resolved.existing);
      // A second configure keeps the first one's mount instead of stacking another on it.
      const isRecorded = journal.records.some((r) => r.op === 'mount' && r.path === resolved.existing);
      if (isRecorded && isMounted(host)) continue;
      journal.append({ op: 'mount', path: resolved.existing, kind: spec.kind });
      options.onStep?.(`journaled mount ${resolved.existing}`);
      for (const command of mountCommands(spec, host)) run(command);
      mounted.push(resolved.existing);
      options.onStep?.(`mounted ${resolved.existing}`);
    }
    return mounted;
  } finally {
    journal.close();
    release();
  }
}

/** Unmount what a `mount` record made, if it is still mounted (lazily when busy: a process may still hold it). */
export function unmountRecorded(hostPath: string): boolean {
  if (!isMounted(hostPath)) return false;
  try {
    run(['umount', hostPath]);
  } catch {
    run(['umount', '-l', hostPath]);
  }
  return true;
}
