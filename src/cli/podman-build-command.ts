// `dib-pypi podman build [--mirror DIR] [plan flags] [podman build flags] CONTEXT`: podman's exit code is ours.
import type { PodmanBuildOptions } from './commands/podman-build.js';
import { runOciBuild } from './oci-build-run.js';

export async function runPodmanBuild(flags: PodmanBuildOptions): Promise<void> {
  await runOciBuild('podman', flags.rawArgs);
}
