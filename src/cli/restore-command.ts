// `dib-pypi restore --root DIR`: the post-install hook on any root filesystem. Loads no plan code.
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { postInstall } from '../../hooks/post-install.js';
import { printJson, printLine, warnAll } from './output.js';
import { stepHookFromEnv } from './fault-hook.js';
import { stateRootOf, type RootFlags } from './root-flags.js';

/**
 * The DIB element keeps its journal beside the image root (`$TMP_BUILD_DIR/dib-pypi`, next to
 * `$TMP_BUILD_DIR/mnt`), so that disk-image-create's own clean-up removes it. After a killed
 * build, `dib-pypi restore --root $TMP_BUILD_DIR/mnt` finds it there when no state directory was
 * named and the default one has no journal for the root.
 */
function besideRoot(root: string): string | undefined {
  try {
    const beside = join(dirname(realpathSync(root)), 'dib-pypi');
    return existsSync(beside) ? beside : undefined;
  } catch {
    return undefined;
  }
}

export function runRestore(flags: RootFlags): void {
  const onStep = stepHookFromEnv(process.env);
  let result = postInstall({ root: flags.root, stateRoot: stateRootOf(flags), onStep });
  const beside = flags.stateDir === undefined && !process.env.DIB_PYPI_STATE_DIR && !result.hadJournal ? besideRoot(flags.root) : undefined;
  if (beside !== undefined) result = postInstall({ root: flags.root, stateRoot: beside, onStep });
  warnAll(result.warnings);
  if (flags.json) {
    printJson(result);
    return;
  }
  if (!result.hadJournal) printLine(`nothing to restore in ${result.root}`);
  else printLine(`restored ${result.root}: ${result.restored.join(', ') || 'nothing had changed'}`);
}
