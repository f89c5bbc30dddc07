// What `dib-pypi podman build` and `dib-pypi buildah build` run: our flags apart from the engine's,
// the plan, the mirror, then the build; the engine's exit code is ours.
import { readFileSync } from 'node:fs';
import { redact } from '../redact.js';
import { splitBuildArgs } from '../targets/docker-build-args.js';
import { BUILDAH_DIALECT, PODMAN_DIALECT } from '../targets/oci-build-flags.js';
import { ociBuild } from '../targets/oci-builder.js';
import { type OciEngineName, ociEngine } from '../targets/oci-engine.js';
import { resolveMirror } from '../targets/mirror-location.js';
import { readLock } from '../targets/read-lock.js';
import { warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';

export async function runOciBuild(name: OciEngineName, rawArgs: string[]): Promise<void> {
  const args = splitBuildArgs(rawArgs, name === 'podman' ? PODMAN_DIALECT : BUILDAH_DIALECT);
  const plan = await planFromCli(args.own, process.env, process.cwd());
  warnAll(plan.warnings);
  const mirror = resolveMirror(args.own.mirror, process.env);
  const lock = args.own.lock === undefined ? undefined : readLock(args.own.lock);
  const stdinDockerfile = args.file === '-' ? readFileSync(0, 'utf8') : undefined;
  process.exitCode = await ociBuild({
    engine: ociEngine(name, process.env),
    args,
    plan,
    env: process.env,
    cwd: process.cwd(),
    ...(mirror !== undefined ? { mirror } : {}),
    ...(lock !== undefined ? { lock: lock.text } : {}),
    ...(stdinDockerfile !== undefined ? { stdinDockerfile } : {}),
    warn,
    progress: (text) => process.stderr.write(`dib-pypi: ${redact(text)}\n`),
  });
}
