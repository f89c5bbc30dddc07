// `dib-pypi configure --root DIR` and `dib-pypi restore --root DIR`: the hooks on any root filesystem.
import { preInstall } from '../../hooks/pre-install.js';
import { postInstall } from '../../hooks/post-install.js';
import { defaultStateRoot } from '../inject/state-root.js';
import { printJson, printLine, warnAll } from './output.js';
import { planFromCli, type SharedFlags } from './plan-input.js';
import { stepHookFromEnv } from './step-hook.js';

export interface RootFlags {
  root: string;
  stateDir?: string;
  json?: boolean;
}

export interface ConfigureFlags extends SharedFlags, RootFlags {
  home: string;
}

function stateRootOf(flags: RootFlags): string {
  return defaultStateRoot(process.env, process.getuid?.() ?? 0, flags.stateDir);
}

export function runConfigure(flags: ConfigureFlags): void {
  const plan = planFromCli(flags, process.env, process.cwd());
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
