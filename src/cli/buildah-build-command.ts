// `dib-pypi buildah build [--mirror DIR] [plan flags] [buildah build flags] CONTEXT`: buildah's exit code is ours.
import type { BuildahBuildOptions } from './commands/buildah-build.js';
import { runOciBuild } from './oci-build-run.js';

export async function runBuildahBuild(flags: BuildahBuildOptions): Promise<void> {
  await runOciBuild('buildah', flags.rawArgs);
}
