// DIB_PYPI_DEBUG_TIMING=1: the mirror commands print how long their phases took, on stderr.
import type { EnvMap } from '../plan/types.js';
import type { Tracer } from '../mirror/index/tracer.js';

/** A tracer printing each line as `dib-pypi: timing: <line>` when DIB_PYPI_DEBUG_TIMING=1, else none. */
export function timingTracerFromEnv(env: EnvMap): Tracer | undefined {
  if (env.DIB_PYPI_DEBUG_TIMING !== '1') return undefined;
  return (line) => process.stderr.write(`dib-pypi: timing: ${line}\n`);
}
