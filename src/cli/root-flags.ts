// Flags shared by the commands that work on a root, and the test-only fault-injection hook they take from the environment.
import { defaultStateRoot } from '../inject/state-root.js';
import type { StepHook } from '../inject/configure-root.js';
import type { EnvMap } from '../plan/types.js';

export interface RootFlags {
  root: string;
  stateDir?: string;
  json?: boolean;
}

export function stateRootOf(flags: RootFlags): string {
  return defaultStateRoot(process.env, process.getuid?.() ?? 0, flags.stateDir);
}

/** Test-only fault injection: DIB_PYPI_TEST_FAULT_AT=N kills this process with SIGKILL after its Nth file-system step. */
export function stepHookFromEnv(env: EnvMap): StepHook | undefined {
  const at = Number(env.DIB_PYPI_TEST_FAULT_AT ?? 0);
  const trace = env.DIB_PYPI_TEST_TRACE_STEPS === '1';
  if (!(at > 0) && !trace) return undefined;
  let count = 0;
  return (name) => {
    count++;
    if (trace) process.stderr.write(`dib-pypi: step ${count}: ${name}\n`);
    if (count === at) process.kill(process.pid, 'SIGKILL');
  };
}
