// `dib-pypi chroot DIR [--mirror DIR] -- CMD...`: the chroot runner; CMD's exit code is ours.
import { StateError } from '../errors.js';
import { ProcessesInRootError } from '../inject/restore-root.js';
import { runInChroot } from '../targets/chroot-runner.js';
import { resolveMirror } from '../targets/mirror-location.js';
import { readLock } from '../targets/read-lock.js';
import { stepHookFromEnv } from './fault-hook.js';
import { printJson, warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import { stateRootOf } from './root-flags.js';
import type { ChrootOptions } from './commands/chroot.js';

export async function runChroot(flags: ChrootOptions): Promise<void> {
  const [root, ...command] = flags.positionals as [string, ...string[]];
  const plan = await planFromCli(flags, process.env, process.cwd());
  warnAll(plan.warnings);
  const mirror = resolveMirror(flags.mirror, process.env);
  const lock = flags.lock === undefined ? undefined : readLock(flags.lock);
  try {
    const result = await runInChroot({
      root,
      mirror,
      lock: lock?.text,
      home: flags.home,
      plan,
      stateRoot: stateRootOf({ root, stateDir: flags.stateDir }),
      command,
      env: process.env,
      onStep: stepHookFromEnv(process.env),
      warn,
      // --json: stdout carries the report alone; CMD's output goes to stderr.
      commandStdout: flags.json ? 'stderr' : 'stdout',
    });
    if (flags.json) printJson(result);
    process.exitCode = result.exitCode;
  } catch (error) {
    // CMD left processes inside the root that hold its mounts: nothing was restored (restore-root.ts).
    if (!(error instanceof ProcessesInRootError)) throw error;
    throw new StateError(`${error.message}. Stop them, or run: dib-pypi restore --root ${error.root} --kill-processes`, { cause: error });
  }
}
