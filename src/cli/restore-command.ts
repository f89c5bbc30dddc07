// `dib-pypi restore --root DIR`: the post-install hook on any root filesystem. Loads no plan code.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StateError } from '../errors.js';
import { stateDirOf } from '../inject/journal-file.js';
import { describeProcesses } from '../inject/root-processes.js';
import { ProcessesInRootError, restoreRoot, type RestoreOptions, type RestoreResult } from '../inject/restore-root.js';
import { printJson, printLine, warn, warnAll } from './output.js';
import { stepHookFromEnv } from './fault-hook.js';
import { stateRootOf } from './root-flags.js';
import type { RestoreOptions as RestoreFlags } from './commands/restore.js';

/**
 * The DIB element keeps its journal beside the image root (`$TMP_BUILD_DIR/dib-pypi`, next to
 * `$TMP_BUILD_DIR/mnt`), so that disk-image-create's own clean-up removes it. After a killed
 * build, `dib-pypi restore --root $TMP_BUILD_DIR/mnt` finds it there when no state directory was
 * named and the default one has no journal for the root. It is obeyed only if it passes the same
 * trust check as any state directory (src/fs/trust-dir.ts): a parent anyone can write to (a root
 * kept directly in /tmp) must not let them plant a journal there; such a one is refused, loudly.
 */
function besideRoot(root: string): string | undefined {
  try {
    const real = realpathSync(root);
    const beside = join(dirname(real), 'dib-pypi');
    // Only when it holds something for this root: an unrelated <parent>/dib-pypi (another user's
    // --state-dir in /tmp, say) is none of our business. Looking is read-only, so looking is safe.
    return existsSync(stateDirOf(beside, real)) || existsSync(`${stateDirOf(beside, real)}.lock`) ? beside : undefined;
  } catch {
    return undefined;
  }
}

function restore(options: RestoreOptions): RestoreResult {
  try {
    return restoreRoot(options);
  } catch (error) {
    if (!(error instanceof ProcessesInRootError)) throw error;
    throw new StateError(`${error.message}. Stop them, or run: dib-pypi restore --root ${error.root} --kill-processes`, { cause: error });
  }
}

export function runRestore(flags: RestoreFlags): void {
  const onStep = stepHookFromEnv(process.env);
  const killProcesses = flags.killProcesses === true;
  let result = restore({ root: flags.root, stateRoot: stateRootOf(flags), onStep, killProcesses });
  const beside = flags.stateDir === undefined && !process.env.DIB_PYPI_STATE_DIR && !result.hadJournal ? besideRoot(flags.root) : undefined;
  if (beside !== undefined) result = restore({ root: flags.root, stateRoot: beside, onStep, killProcesses });
  warnAll(result.warnings);
  if (result.stopped.length > 0) warn(`stopped ${describeProcesses(result.stopped)}, running inside ${result.root}`);
  else if (result.processes.length > 0) {
    warn(
      `still running inside ${result.root}: ${describeProcesses(result.processes)}; they may change it again (dib-pypi restore --kill-processes stops them)`,
    );
  }
  if (flags.json) {
    printJson(result);
    return;
  }
  if (!result.hadJournal) printLine(`nothing to restore in ${result.root}`);
  else printLine(`restored ${result.root}: ${result.restored.join(', ') || 'nothing had changed'}`);
}
