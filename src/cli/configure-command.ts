// `dib-pypi configure --root DIR`: the pre-install hook on any root filesystem.
import { preInstall } from '../../hooks/pre-install.js';
import { printJson, printLine, warnAll } from './output.js';
import { planFromCli, type SharedFlags } from './plan-input.js';
import { stepHookFromEnv } from './fault-hook.js';
import { stateRootOf, type RootFlags } from './root-flags.js';

export interface ConfigureFlags extends SharedFlags, RootFlags {
  home: string;
}

export async function runConfigure(flags: ConfigureFlags): Promise<void> {
  const plan = await planFromCli(flags, process.env, process.cwd());
  warnAll(plan.warnings);
  const result = preInstall({
    root: flags.root,
    home: flags.home,
    plan,
    stateRoot: stateRootOf(flags),
    onStep: stepHookFromEnv(process.env),
  });
  warnAll(result.warnings);
  if (flags.json) {
    printJson({ root: result.root, written: result.written, warnings: [...plan.warnings, ...result.warnings] });
    return;
  }
  printLine(`configured pip in ${result.root}: wrote ${result.written.join(', ')}`);
  printLine(`index-url ${plan.indexUrl.url}; undo with: dib-pypi restore --root ${result.root}`);
}
