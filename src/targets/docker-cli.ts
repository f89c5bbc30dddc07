// The docker CLI, driven only for BuildKit builds (the Engine API has no secret or bind mounts for a
// build; everything else goes through dockerode): which binary, whether it can build with BuildKit, running it.
import { spawnSync } from 'node:child_process';
import { runForwardingSignals } from './run-forwarding-signals.js';
import { DibPypiError } from '../errors.js';
import type { EnvMap } from '../plan/types.js';

/** `$DIB_PYPI_DOCKER`, else `docker` on PATH. */
export function dockerBinary(env: EnvMap): string {
  return env.DIB_PYPI_DOCKER || 'docker';
}

/** The environment docker runs in: BuildKit on, no credentials of ours. */
export function dockerEnv(env: EnvMap): NodeJS.ProcessEnv {
  return { ...(env as NodeJS.ProcessEnv), DOCKER_BUILDKIT: '1' };
}

export class DockerUnavailableError extends DibPypiError {}

interface VersionInfo {
  Client?: { Version?: string };
  Server?: { Version?: string } | null;
}

/**
 * docker 20.10 to 22.x build with the BuildKit built into the CLI when DOCKER_BUILDKIT=1; from 23
 * on, `docker build` needs the buildx plugin for that. Throws a one-line error naming the fix.
 */
export function checkBuildKit(docker: string, env: EnvMap): void {
  const version = spawnSync(docker, ['version', '--format', '{{json .}}'], { encoding: 'utf8', env: dockerEnv(env) });
  if (version.error !== undefined) {
    throw new DockerUnavailableError(
      `cannot run ${docker}: ${(version.error as NodeJS.ErrnoException).code ?? version.error.message} (set DIB_PYPI_DOCKER to the docker CLI to use)`,
    );
  }
  let info: VersionInfo = {};
  try {
    info = JSON.parse(version.stdout.trim().split('\n')[0] ?? '{}') as VersionInfo;
  } catch {
    // reported below
  }
  if (!info.Server?.Version) {
    const detail = version.stderr.trim().split('\n').filter(Boolean).pop() ?? 'no server version';
    throw new DockerUnavailableError(`no Docker engine answers ${docker}: ${detail}`);
  }
  const major = Number.parseInt(info.Client?.Version ?? '0', 10);
  if (major >= 23 && spawnSync(docker, ['buildx', 'version'], { stdio: 'ignore', env: dockerEnv(env) }).status !== 0) {
    throw new DockerUnavailableError(buildKitMissingMessage(docker, info.Client?.Version ?? '?'));
  }
}

/**
 * The two ways to get a BuildKit build (the classic builder cannot mount the mirror and pip.conf
 * without leaving them in the image): this CLI with its buildx plugin, or a CLI that has BuildKit built in.
 */
export function buildKitMissingMessage(docker: string, version: string): string {
  return `${docker} ${version} builds with BuildKit only through the buildx plugin, which it does not find ('${docker} buildx version' fails): give this docker CLI the buildx plugin, or set DIB_PYPI_DOCKER to a docker CLI with BuildKit built in (Docker 20.10-22.x)`;
}

/** Run docker with our stdio (output streams), forwarding our signals to it; resolves with its exit code (128+n for signal n). */
export async function runDockerInherit(docker: string, args: string[], env: EnvMap, stdin: 'inherit' | 'ignore' = 'inherit'): Promise<number> {
  try {
    return await runForwardingSignals(docker, args, { stdio: [stdin, 'inherit', 'inherit'], env: dockerEnv(env) });
  } catch (error) {
    throw new DockerUnavailableError(`cannot run ${docker}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
}
