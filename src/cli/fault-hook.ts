// Test-only fault injection, read from the environment by the commands that write files step by step.
import type { EnvMap } from '../plan/types.js';

/** Test-only fault injection: DIB_PYPI_TEST_FAULT_AT=N kills this process with SIGKILL after its Nth file-system step. */
export function stepHookFromEnv(env: EnvMap): ((name: string) => void) | undefined {
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
