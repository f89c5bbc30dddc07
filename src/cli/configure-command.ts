// `dib-pypi configure --root DIR`: the pre-install hook on any root filesystem.
import { ConfiguredRoot } from '../inject/configured-root.js';
import { MIRROR_MOUNT, resolveMirror } from '../targets/mirror-location.js';
import { printJson, printLine, warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import { stepHookFromEnv } from './fault-hook.js';
import { stateRootOf } from './root-flags.js';
import type { ConfigureOptions } from './commands/configure.js';

export async function runConfigure(flags: ConfigureOptions): Promise<void> {
  const plan = await planFromCli(flags, process.env, process.cwd());
  warnAll(plan.warnings);
  const stateRoot = stateRootOf(flags);
  const onStep = stepHookFromEnv(process.env);
  const mirror = flags.mirror === undefined ? undefined : resolveMirror(flags.mirror, process.env);
  const mounts = mirror === undefined ? [] : [{ target: MIRROR_MOUNT, kind: 'bind-ro' as const, source: mirror }];
  // Left configured on purpose: `dib-pypi restore` (the element's post-root.d) undoes it from the journal.
  const result = ConfiguredRoot.configure({ root: flags.root, home: flags.home, plan, stateRoot, mounts, onStep, warn });
  if (flags.json) {
    printJson({ root: result.root, written: result.written, warnings: [...plan.warnings, ...result.warnings] });
    return;
  }
  printLine(`configured pip in ${result.root}: wrote ${result.written.join(', ')}${mirror ? `; mounted ${mirror} read-only at ${MIRROR_MOUNT}` : ''}`);
  printLine(`index-url ${plan.indexUrl.url}; undo with: dib-pypi restore --root ${result.root}`);
}
