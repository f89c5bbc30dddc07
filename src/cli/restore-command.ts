// `dib-pypi restore --root DIR`: the post-install hook on any root filesystem. Loads no plan code.
import { postInstall } from '../../hooks/post-install.js';
import { printJson, printLine, warnAll } from './output.js';
import { stepHookFromEnv } from './fault-hook.js';
import { stateRootOf, type RootFlags } from './root-flags.js';

export function runRestore(flags: RootFlags): void {
  const result = postInstall({ root: flags.root, stateRoot: stateRootOf(flags), onStep: stepHookFromEnv(process.env) });
  warnAll(result.warnings);
  if (flags.json) {
    printJson(result);
    return;
  }
  if (!result.hadJournal) printLine(`nothing to restore in ${result.root}`);
  else printLine(`restored ${result.root}: ${result.restored.join(', ') || 'nothing had changed'}`);
}
